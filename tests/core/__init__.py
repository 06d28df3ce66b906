"""Tests of the training core, one file per module of src/shallowlab/core."""
