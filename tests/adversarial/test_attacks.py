"""Attacks against independent computations: a linear model's input gradient is known in closed
form, grad_x CE = W (softmax(z) - onehot(y)), so FGSM's step can be checked pixel by pixel."""

import keras
import numpy as np
import pytest

from mnist_viz.adversarial import attacks
from mnist_viz.core.model import LOGITS, PROBABILITIES, build_model, predict_proba
from mnist_viz.core.training import TrainConfig, train_model


def linear_model(
    seed: int = 0, with_logits: bool = True
) -> tuple[keras.Model, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = rng.normal(0, 0.05, (784, 10)).astype(np.float32)
    bias = rng.normal(0, 0.1, 10).astype(np.float32)
    inputs = keras.Input((28, 28, 1))
    flat = keras.layers.Flatten()(inputs)
    if with_logits:
        logits = keras.layers.Dense(10, name=LOGITS)(flat)
        outputs = keras.layers.Activation("softmax", name=PROBABILITIES)(logits)
        model = keras.Model(inputs, outputs)
        model.get_layer(LOGITS).set_weights([weights, bias])
    else:  # only a softmax output: the loss must then come from the probabilities
        dense = keras.layers.Dense(10, activation="softmax", name="scores")
        model = keras.Model(inputs, dense(flat))
        dense.set_weights([weights, bias])
    return model, weights, bias


def reference_gradient(x: np.ndarray, label: int, weights, bias) -> np.ndarray:
    z = x.reshape(-1).astype(np.float64) @ weights + bias
    p = np.exp(z - z.max())
    p /= p.sum()
    p[label] -= 1.0
    return (weights @ p).reshape(28, 28)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(1).uniform(0, 1, (6, 28, 28)).astype(np.float32)


@pytest.mark.parametrize("with_logits", [True, False])
def test_fgsm_matches_the_closed_form_gradient_of_a_linear_model(images, with_logits):
    model, w, b = linear_model(with_logits=with_logits)
    labels = np.arange(6) % 10
    adversarial = attacks.fgsm(model, images, labels, epsilon=0.1)
    for x, y, adv in zip(images, labels, adversarial, strict=True):
        expected = np.clip(x + 0.1 * np.sign(reference_gradient(x, y, w, b)), 0, 1)
        np.testing.assert_allclose(adv, expected, atol=1e-6)


def test_targeted_step_descends_the_target_loss(images):
    model, w, b = linear_model()
    direction = attacks.fgsm_direction(model, images[:1], target=3)
    np.testing.assert_array_equal(direction[0], -np.sign(reference_gradient(images[0], 3, w, b)))


def test_no_labels_means_the_models_own_prediction(images):
    model, _, _ = linear_model()
    predicted = predict_proba(model, images).argmax(1)
    np.testing.assert_array_equal(
        attacks.fgsm(model, images, None, 0.2), attacks.fgsm(model, images, predicted, 0.2)
    )


def test_shapes_are_kept(images):
    model, _, _ = linear_model()
    assert attacks.fgsm(model, images, None, 0.1).shape == (6, 28, 28)
    assert attacks.pgd(model, images[..., None], None, 0.1, steps=2).shape == (6, 28, 28, 1)
    assert attacks.fgsm(model, images[0], None, 0.1).shape == (28, 28)
    with pytest.raises(ValueError):
        attacks.fgsm(model, np.zeros((2, 27, 28)), None, 0.1)


@pytest.fixture(scope="module", params=["cnn", "mlp"])
def tiny_net(tiny_data_module, request):
    """A tiny trained network: the classic CNN, and an MLP (attacks must not assume convolutions)."""
    from mnist_viz.core.architecture import Architecture

    arch = {"cnn": Architecture("classic"), "mlp": Architecture("mlp", filters=(), dense=32)}
    # MNIST-like data alone: these tests are about attacks, not about what the network learns from
    config = TrainConfig(epochs=2, batch_size=64, arch=arch[request.param], data_mix="mnist")
    return train_model(tiny_data_module, config).model


@pytest.fixture(scope="module")
def tiny_data_module():
    from conftest import tiny_mnist

    return tiny_mnist()


@pytest.mark.parametrize("epsilon", [0.05, 0.2])
def test_every_attack_stays_in_the_ball_and_in_range(tiny_net, tiny_data_module, epsilon):
    x = tiny_data_module.x_test[:32] / 255.0
    for adv in [
        attacks.fgsm(tiny_net, x, None, epsilon),
        attacks.fgsm(tiny_net, x, None, epsilon, target=2),
        attacks.pgd(tiny_net, x, None, epsilon, steps=5),
        attacks.pgd(tiny_net, x, None, epsilon, steps=5, random_start=True),
    ]:
        assert np.abs(adv - x).max() <= epsilon + 1e-6
        assert adv.min() >= 0.0 and adv.max() <= 1.0


def test_epsilon_zero_changes_nothing(tiny_net, tiny_data_module):
    x = (tiny_data_module.x_test[:16] / 255.0).astype(np.float32)
    np.testing.assert_array_equal(attacks.fgsm(tiny_net, x, None, 0.0), x)
    np.testing.assert_array_equal(attacks.pgd(tiny_net, x, None, 0.0, random_start=True), x)


def test_pgd_is_at_least_as_strong_as_fgsm(tiny_net, tiny_data_module):
    x, y = tiny_data_module.x_test, tiny_data_module.y_test
    for epsilon in (0.1, 0.2, 0.3):
        fgsm_acc = np.mean(
            predict_proba(tiny_net, attacks.fgsm(tiny_net, x / 255.0, y, epsilon)).argmax(1) == y
        )
        pgd_acc = np.mean(
            predict_proba(tiny_net, attacks.pgd(tiny_net, x / 255.0, y, epsilon)).argmax(1) == y
        )
        assert pgd_acc <= fgsm_acc


def test_targeted_attacks_move_towards_the_target(tiny_net, tiny_data_module):
    x = tiny_data_module.x_test[:32] / 255.0
    target = 6
    before = predict_proba(tiny_net, x)[:, target]
    after_fgsm = predict_proba(tiny_net, attacks.fgsm(tiny_net, x, None, 0.1, target=target))[
        :, target
    ]
    assert np.mean(after_fgsm > before) > 0.9
    after_pgd = predict_proba(tiny_net, attacks.pgd(tiny_net, x, None, 0.1, target=target))[
        :, target
    ]
    assert after_pgd.mean() >= after_fgsm.mean()


def test_targeted_pgd_reaches_the_target(images):
    model, _, _ = linear_model()
    for target in (0, 7):
        reached = predict_proba(model, attacks.pgd(model, images, None, 0.1, target=target))
        assert np.all(reached.argmax(1) == target)


def test_minimal_epsilon_is_the_first_flip_on_the_grid(tiny_net, tiny_data_module):
    x = tiny_data_module.x_test[0] / 255.0
    label = int(predict_proba(tiny_net, x).argmax())
    found = attacks.minimal_epsilon_fgsm(tiny_net, x)
    assert found is not None
    direction = attacks.fgsm_direction(tiny_net, x, [label])
    # brute force, independently: every grid step below `found` keeps the label, `found` flips it
    below = np.arange(0, found - 1e-9, attacks.SEARCH_RESOLUTION)
    kept = predict_proba(
        tiny_net, np.stack([attacks.perturb(x, direction, e) for e in below])
    ).argmax(1)
    assert np.all(kept == label)
    assert predict_proba(tiny_net, attacks.perturb(x, direction, found)).argmax() != label
    assert attacks.minimal_epsilon_fgsm(tiny_net, x, max_epsilon=0.0) is None


def test_minimal_epsilon_pgd_flips_and_is_not_larger_than_fgsm(tiny_net, tiny_data_module):
    x = tiny_data_module.x_test[1] / 255.0
    label = int(predict_proba(tiny_net, x).argmax())
    found = attacks.minimal_epsilon_pgd(tiny_net, x, tolerance=0.002)
    assert found is not None
    adv = attacks.pgd(tiny_net, x, [label], found)
    assert predict_proba(tiny_net, adv).argmax() != label
    fgsm_found = attacks.minimal_epsilon_fgsm(tiny_net, x)
    assert fgsm_found is None or found <= fgsm_found + 0.002


def test_robustness_curve_matches_attacking_each_epsilon_directly(tiny_net, tiny_data_module):
    x, y = tiny_data_module.x_test, tiny_data_module.y_test
    epsilons = [0.0, 0.1, 0.25]
    curve = attacks.robustness_curve(tiny_net, x, y, epsilons)
    for epsilon, accuracy in zip(epsilons, curve, strict=True):
        direct = predict_proba(tiny_net, attacks.fgsm(tiny_net, x / 255.0, y, epsilon)).argmax(1)
        assert accuracy == pytest.approx(np.mean(direct == y))
    pgd_curve = attacks.robustness_curve(tiny_net, x, y, epsilons, method=attacks.PGD, steps=5)
    assert pgd_curve[0] == curve[0] and np.all(pgd_curve <= curve + 1e-9)


def test_the_standard_model_has_a_logits_layer_to_differentiate():
    names = [layer.name for layer in build_model().layers]
    assert LOGITS in names and names[-1] == PROBABILITIES


def test_attacks_are_one_registry_and_an_unknown_name_is_refused():
    assert attacks.ATTACKS == ("FGSM", "PGD")
    assert [attacks.get_attack(n).name for n in attacks.ATTACKS] == ["FGSM", "PGD"]
    with pytest.raises(ValueError, match="unknown attack 'CW'"):
        attacks.get_attack("CW")


def test_the_registrys_attacks_match_the_closed_form_of_a_linear_model(images):
    model, w, b = linear_model()
    labels = np.arange(6) % 10
    fgsm, pgd = attacks.get_attack("FGSM"), attacks.get_attack("PGD")
    prepared = fgsm.prepare(model, images, labels)
    for epsilon in (0.05, 0.3):
        made = fgsm.run(model, images, labels, epsilon, prepared=prepared)
        for x, y, adv in zip(images, labels, made, strict=True):
            expected = np.clip(x + epsilon * np.sign(reference_gradient(x, y, w, b)), 0, 1)
            np.testing.assert_allclose(adv, expected, atol=1e-6)
    # one epsilon per copy of one image: each copy moved by its own epsilon
    copies = np.repeat(images[:1], 3, axis=0)
    made = fgsm.run(model, copies, None, np.array([0.0, 0.1, 0.2]), prepared=prepared[0])
    for adv, epsilon in zip(made, (0.0, 0.1, 0.2), strict=True):
        np.testing.assert_allclose(adv, np.clip(images[0] + epsilon * prepared[0], 0, 1), atol=1e-6)
    assert fgsm.curve_steps(20) == 1 and pgd.curve_steps(20) == 20
    np.testing.assert_array_equal(pgd.run(model, images, labels, 0.0), images)
    np.testing.assert_array_equal(
        pgd.run(model, images, labels, 0.1, steps=3), attacks.pgd(model, images, labels, 0.1, 3)
    )
