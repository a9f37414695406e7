"""Tests of ``mnist_viz.core``, one file per module (or behaviour)."""
