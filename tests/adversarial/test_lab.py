"""The lab's per-digit computations and adversarial training, on tiny models."""

import io
import re

import numpy as np
import pytest
from PIL import Image

from mnist_viz.adversarial import attacks
from mnist_viz.adversarial.adversarial_training import (
    ADVERSARIAL_MODEL,
    AdversarialConfig,
    train_adversarial,
)
from mnist_viz.adversarial.attacks import FGSM, PGD
from mnist_viz.adversarial.lab import (
    AttackOutcome,
    attack_digit,
    layer_changes,
    map_change,
    measure_robustness,
)
from mnist_viz.core.cache import ModelCache
from mnist_viz.core.model import predict_proba
from mnist_viz.core.training import TrainConfig, train_model
from mnist_viz.view import render


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from conftest import tiny_mnist

    data = tiny_mnist()
    return data, train_model(data, TrainConfig(epochs=2, batch_size=64)).model


def test_attack_digit_is_fgsm_on_the_models_own_answer(tiny):
    data, model = tiny
    image = data.x_test[3]
    outcome = attack_digit(model, image, 0.2)
    x = image / 255.0
    np.testing.assert_allclose(outcome.adversarial, attacks.fgsm(model, x, None, 0.2), atol=1e-6)
    np.testing.assert_allclose(outcome.clean_probabilities, predict_proba(model, x)[0], atol=1e-6)
    assert outcome.clean_class == int(predict_proba(model, x).argmax())


def test_attack_digit_pgd_and_targets_stay_in_the_ball(tiny):
    data, model = tiny
    for method in (FGSM, PGD):
        for target in (None, 5):
            outcome = attack_digit(model, data.x_test[0], 0.15, method, target)
            assert outcome.linf <= 0.15 + 1e-6
            assert outcome.adversarial.min() >= 0 and outcome.adversarial.max() <= 1


def test_outcome_norms_and_verdicts():
    clean = np.zeros((28, 28), np.float32)
    adv = clean.copy()
    adv[0, 0], adv[1, 1] = 0.3, 0.4
    p_clean, p_adv = np.eye(10)[2], np.eye(10)[7]
    outcome = AttackOutcome(clean, adv, p_clean, p_adv)
    assert outcome.linf == pytest.approx(0.4)
    assert outcome.l2 == pytest.approx(0.5)  # a 3-4-5 triangle
    assert outcome.changed_pixels == 2
    assert outcome.fooled() and outcome.fooled(target=7) and not outcome.fooled(target=3)


def test_layer_changes_are_relative_l2():
    clean = {"a": np.array([3.0, 4.0]), "b": np.zeros(2)}
    adv = {"a": np.array([3.0, 9.0]), "b": np.ones(2)}
    assert layer_changes(clean, adv) == {"a": pytest.approx(1.0), "b": 0.0}


def test_measure_robustness_fgsm_uses_every_test_image(tiny):
    data, model = tiny
    curve = measure_robustness(model, data, FGSM)
    assert curve.images == len(data.x_test) and curve.epsilons[0] == 0.0
    clean = np.mean(predict_proba(model, data.x_test).argmax(1) == data.y_test)
    assert curve.at(0.0) == pytest.approx(clean)
    assert curve.at(0.5) <= curve.at(0.0)


def test_adversarial_training_runs_and_caches_beside_the_standard_model(tiny, tmp_path):
    data, standard = tiny
    reports = []
    config = AdversarialConfig(attack=FGSM, epochs=2, epsilon=0.2, batch_size=64)
    cache = ModelCache(tmp_path, ADVERSARIAL_MODEL)
    cached = cache.train(lambda: data, config, reports.append, trainer=train_adversarial)
    assert reports and reports[-1].fraction == 1.0
    info = cache.read_info()
    assert info.config["attack"] == FGSM and info.config["epsilon"] == 0.2
    assert set(info.history) >= {"loss", "accuracy", "test_accuracy", "test_attacked_accuracy"}
    # its own versioned file, beside (not over) the standard model's
    assert cache.model_path.parent == tmp_path
    assert re.fullmatch(rf"{ADVERSARIAL_MODEL}\.[0-9a-f]{{16}}\.keras", cache.model_path.name)
    # trained on attacked images, it resists the attack better than the standard model
    y = data.y_test
    robust_acc = np.mean(
        predict_proba(cached.model, attacks.fgsm(cached.model, data.x_test / 255, y, 0.2)).argmax(1)
        == y
    )
    standard_acc = np.mean(
        predict_proba(standard, attacks.fgsm(standard, data.x_test / 255, y, 0.2)).argmax(1) == y
    )
    assert robust_acc >= standard_acc


def test_pgd_adversarial_training_resists_pgd_better_than_the_standard_model(tiny):
    data, standard = tiny
    result = train_adversarial(
        data, AdversarialConfig(attack=PGD, epochs=2, epsilon=0.3, pgd_steps=3, batch_size=64)
    )
    assert len(result.history["loss"]) == 2
    y, x = data.y_test, data.x_test / 255

    def under_pgd(model) -> float:
        return float(np.mean(predict_proba(model, attacks.pgd(model, x, y, 0.3)).argmax(1) == y))

    robust, plain = under_pgd(result.model), under_pgd(standard)
    assert robust > plain + 0.1, (robust, plain)
    with pytest.raises(ValueError):
        train_adversarial(data, AdversarialConfig(attack="CW"))


@pytest.mark.parametrize("method", [FGSM, PGD])
@pytest.mark.parametrize("target", [None, 4])
def test_a_sweep_is_attack_digit_at_every_epsilon(tiny, method, target):
    from mnist_viz.adversarial.lab import attack_sweep

    data, model = tiny
    image = data.x_test[5]
    epsilons = (0.0, 0.05, 0.13, 0.3)
    sweep = attack_sweep(model, image, method, target, epsilons)
    assert sweep.adversarial.shape == (4, 28, 28) and sweep.probabilities.shape == (4, 10)
    np.testing.assert_allclose(sweep.adversarial[0], image / 255.0, atol=1e-6)  # epsilon 0
    for i, eps in enumerate(epsilons):
        alone = attack_digit(model, image, eps, method, target)
        np.testing.assert_allclose(sweep.adversarial[i], alone.adversarial, atol=1e-4)
        np.testing.assert_allclose(
            sweep.probabilities[i], alone.adversarial_probabilities, atol=1e-4
        )
        assert sweep.outcome(i).linf <= eps + 1e-6
        assert sweep.classes[i] == alone.adversarial_class


def test_adversarial_training_trains_the_network_it_is_given(tiny):
    from mnist_viz.core.architecture import Architecture, conv_layers

    data, _ = tiny
    mlp = Architecture("mlp", filters=(), dense=16, dropout=0.55)
    config = AdversarialConfig(
        attack=FGSM, epochs=1, epsilon=0.1, batch_size=128, arch=mlp.to_dict()
    )
    result = train_adversarial(data, config)
    assert not conv_layers(result.model)
    assert result.model.get_layer("dense").units == 16
    assert result.model.get_layer("dropout").rate == pytest.approx(0.55)  # the network's own
    assert [s.name for s in result.sources] == ["MNIST", "pen"]  # the standard recipe's mix
    # the cache records which network it is, and the classic one when none is given
    assert config.to_dict()["arch"] == mlp.to_dict()
    assert AdversarialConfig().to_dict()["arch"]["filters"] == [32, 64]


def test_every_network_has_one_adversarial_twin():
    from mnist_viz.adversarial.adversarial_training import adversarial_name

    assert adversarial_name("mnist_cnn") == ADVERSARIAL_MODEL == "mnist_cnn_adversarial"
    assert adversarial_name("mnist_mlp") == "mnist_mlp_adversarial"
    assert adversarial_name("mnist_mlp_adversarial") == "mnist_mlp_adversarial"


def test_robustness_curves_say_how_many_images_they_attack(tiny):
    from mnist_viz.adversarial.lab import (
        PGD_CURVE_IMAGES,
        robustness_images,
        robustness_method_text,
    )

    assert robustness_images(FGSM, 10_000) == 10_000
    assert robustness_images(PGD, 10_000) == PGD_CURVE_IMAGES == 1_000
    assert robustness_images(PGD, 300) == 300
    # the offline sample's 1,000 test images are not called MNIST's 10,000
    assert robustness_method_text(1_000).startswith("FGSM on all 1,000 test images, and PGD")
    data, model = tiny
    curve = measure_robustness(model, data, PGD)
    assert curve.images == robustness_images(PGD, len(data.x_test))


def test_relative_change_is_the_change_over_the_clean_images_length():
    clean = np.zeros((28, 28), np.float32)
    clean[0, :2] = 0.6, 0.8  # length 1
    adv = clean.copy()
    adv[5, 5] = 0.25
    outcome = AttackOutcome(clean, adv, np.eye(10)[1], np.eye(10)[1])
    assert outcome.relative_l2 == pytest.approx(0.25)
    blank = AttackOutcome(np.zeros((28, 28)), adv - clean, np.eye(10)[1], np.eye(10)[1])
    assert np.isfinite(blank.relative_l2)  # no division by zero


def test_map_change_draws_both_maps_and_their_difference_on_one_scale():
    clean = np.zeros((4, 4, 2), np.float32)
    clean[0, 0, 0] = 2.0
    adv = clean.copy()
    adv[1, 1, 1] = 1.0  # half the peak: drawn at half strength of the diverging scale
    change = map_change("conv1", clean, adv, scale=2)
    for png_bytes in (change.clean_png, change.adversarial_png, change.change_png):
        assert png_bytes.startswith(b"\x89PNG")
    expected = render.colourise((adv - clean).transpose(2, 0, 1), render.DIVERGING_CMAP, -2.0, 2.0)
    tiled = np.asarray(Image.open(io.BytesIO(change.change_png)))
    assert np.array_equal(tiled[..., :3], render.tile(expected, 2, 2)[..., :3])
    assert "conv1" in change.change_alt and change.change_numbers


def test_a_setting_from_the_browser_lands_on_the_slider():
    from mnist_viz.adversarial.lab import PIXEL_STEPS, SLIDER_EPSILONS, sweep_index

    assert sweep_index(SLIDER_EPSILONS, 0.1) == 10
    assert sweep_index(SLIDER_EPSILONS, 0.104) == 10
    assert sweep_index(SLIDER_EPSILONS, 99) == len(SLIDER_EPSILONS) - 1
    assert sweep_index(SLIDER_EPSILONS, -3) == 0
    for forged in ("x", None, float("nan"), [1]):
        assert sweep_index(SLIDER_EPSILONS, forged) == 0
    assert PIXEL_STEPS[sweep_index(PIXEL_STEPS, 13)] in (12, 14)


def test_the_slider_reads_in_epsilon_or_in_pixels():
    from mnist_viz.adversarial.lab import EPSILON, PIXELS, axis_of, flip_methods, setting_text

    assert axis_of("FGSM") == axis_of("PGD") == EPSILON and axis_of("JSMA") == PIXELS
    assert setting_text("FGSM", 0.1) == "epsilon 0.10"
    assert setting_text("JSMA", 20.0) == "20 pixels changed"
    assert setting_text("JSMA", 1) == "1 pixel changed"
    assert flip_methods("JSMA") == () and "FGSM" in flip_methods("PGD")


def test_jsma_goes_to_the_runner_up_when_any_wrong_answer_will_do():
    from mnist_viz.adversarial.lab import jsma_goal

    logits = np.array([0.05, 0.6, 0.02, 0.3, 0, 0, 0, 0, 0, 0.03])
    assert jsma_goal(logits, None) == 3
    assert jsma_goal(logits, 7) == 7
    assert jsma_goal(np.array([5.0, 5.0, 1, 1, 1, 1, 1, 1, 1, 1]), None) == 1  # never the answer
    assert jsma_goal(np.array([1.0, 1, 1, 9, 1, 1, 1, 1, 1, 1]), None) == 0  # ties: lowest class
