"""Tests of the simulated organization (a package so that its helper module has a unique import name)."""
