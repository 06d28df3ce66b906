"""Tests of src/shallowlab/models."""
