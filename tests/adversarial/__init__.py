"""Tests of ``mnist_viz.adversarial``, one file per module (or behaviour)."""
