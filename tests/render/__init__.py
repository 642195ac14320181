"""Tests of config_report.render."""
