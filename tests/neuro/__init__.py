"""Tests of ``mnist_viz.neuro``, one file per module (or behaviour)."""
