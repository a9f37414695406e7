"""Tests of ``mnist_viz.classroom``, one file per module (or behaviour)."""
