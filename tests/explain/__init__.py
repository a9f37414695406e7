"""Tests of ``mnist_viz.explain``, one file per module (or behaviour)."""
