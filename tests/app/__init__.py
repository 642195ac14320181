"""Tests of config_report.app."""
