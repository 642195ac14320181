"""Tests of config_report.jira."""
