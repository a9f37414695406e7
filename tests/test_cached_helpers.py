"""The pages' cached helpers take a cached model and a digit and derive the cache keys from them
once: a key can never be paired with another model's weights or another digit's pixels."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from mnist_viz.inputs.digit import Digit


@pytest.fixture
def cached():
    return SimpleNamespace(info=SimpleNamespace(model_sha256="sha-of-a"), model=object())


@pytest.fixture
def digit():
    return Digit(np.full((28, 28), 128, np.uint8), "drawing", "your drawing")


def _recorder(calls):
    def record(*args):
        calls.append(args)
        return "result"

    return record


@pytest.mark.parametrize(
    "module, helper, private, extra",
    [
        ("ui.results", "get_explanations", "_explanations", ()),
        ("ui.results", "get_probes", "_probes", ()),
        ("ui.results", "get_sweep", "_sweep", ("FGSM", None)),
        ("ui.results", "get_minimal_epsilon", "_minimal_epsilon", ("PGD", 4)),
        ("ui.results", "get_sweep_view", "_sweep_view", ("FGSM", None, {})),
    ],
)
def test_digit_helpers_key_by_the_model_and_the_digit_they_are_given(
    monkeypatch, cached, digit, module, helper, private, extra
):
    import importlib

    mod = importlib.import_module(module)
    calls = []
    monkeypatch.setattr(mod, private, _recorder(calls))
    assert getattr(mod, helper)(cached, digit, *extra) == "result"
    (args,) = calls
    assert args[:2] == ("sha-of-a", digit.key)
    assert cached.model in args and any(a is digit.image for a in args)


@pytest.mark.parametrize(
    "module, helper, private",
    [
        ("ui.results", "get_feature_model", "_feature_model"),
        ("ui.results", "get_rdms", "_rdms"),
        ("ui.results", "get_shift_accuracy", "_shift_accuracy"),
        ("ui.models", "get_activation_model", "_activation_model"),
    ],
)
def test_model_helpers_key_by_the_model_they_are_given(
    monkeypatch, cached, module, helper, private
):
    import importlib

    mod = importlib.import_module(module)
    calls = []
    monkeypatch.setattr(mod, private, _recorder(calls))
    getattr(mod, helper)(cached)
    assert calls == [("sha-of-a", cached.model)]
