"""Tests of src/shallowlab/runs."""
