"""Tests of ``mnist_viz.view``, one file per module (or behaviour)."""
