"""The class model: a copy of the served network fine-tuned on the class's labelled drawings
(replaying MNIST, as "Teach it my handwriting" does), judged on drawings it did not learn from."""

import numpy as np
import pytest

from mnist_viz.classroom import class_model
from mnist_viz.core.model import evaluate


def test_the_class_model_learns_the_class_and_leaves_the_served_model_alone(taught_base):
    data, model = taught_base
    weights = [w.copy() for w in model.get_weights()]
    # this class writes its 7s the way the training set writes 2s (a planted pattern)
    images = data.x_test[data.y_test == 2][:25]
    labels = np.full(len(images), 7)
    check_x, check_y = class_model.mnist_check_digits(data.x_test, data.y_test, 200)
    result = class_model.fine_tune(
        model, "sha", {"name": "tiny"}, images, labels, data.x_train, data.y_train, check_x, check_y
    )
    learn, held = class_model.split(len(labels))
    assert result.config.drawings == 25 and result.config.held_out == len(held) == 5
    assert sorted([*learn, *held]) == list(range(25))
    # judged on the held-out drawings only, and independently re-scored here
    assert result.before_class == evaluate(model, images[held], labels[held]).accuracy == 0.0
    assert result.after_class == evaluate(result.model, images[held], labels[held]).accuracy
    assert result.after_class >= 0.8  # it learned the class's 7s from the other 20
    assert result.before_mnist == evaluate(model, check_x, check_y).accuracy
    assert result.after_mnist > result.before_mnist - 0.25  # replay keeps most of MNIST
    for old, new in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_too_few_drawings_are_refused(taught_base):
    data, model = taught_base
    few = class_model.MIN_DRAWINGS - 1
    with pytest.raises(ValueError, match="at least"):
        class_model.fine_tune(
            model,
            "sha",
            {},
            data.x_test[:few],
            data.y_test[:few],
            data.x_train,
            data.y_train,
            data.x_test,
            data.y_test,
        )
