"""Tests of shallowlab.graph, one file per module: trace and record, collapse, draw, gradcheck;
and the drawn graphs in a browser."""
