"""Tests of ``mnist_viz.inputs``, one file per module (or behaviour)."""
