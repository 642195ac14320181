"""Tests of config_report.domain."""
