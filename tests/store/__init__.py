"""Tests of config_report.store."""
