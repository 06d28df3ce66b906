"""Figures as functions of plain data (numbers, lists, numpy arrays; never torch), so that a
process that never imports torch can draw them: ``plots`` (the figures several runs share),
``lessons`` (the figures only one experiment draws) and ``painter`` (that process)."""
