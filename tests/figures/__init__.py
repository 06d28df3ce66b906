"""Tests of src/shallowlab/figures."""
