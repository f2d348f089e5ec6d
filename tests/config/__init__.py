"""Tests of scratchlm.config, one file per module (a package, so that test_data.py here and
tests/data/test_data.py do not share a module name)."""
