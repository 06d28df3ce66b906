"""Tests of src/shallowlab/data."""
