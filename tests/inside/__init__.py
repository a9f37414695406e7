"""Tests of ``mnist_viz.inside``, one file per module (or behaviour)."""
