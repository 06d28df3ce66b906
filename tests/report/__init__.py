"""Tests of src/shallowlab/report."""
