"""Tests of src/shallowlab/sweep."""
