"""Tests of src/shallowlab/playground."""
