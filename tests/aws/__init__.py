"""Tests of config_report.aws."""
