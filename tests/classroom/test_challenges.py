"""A challenge submission is checked by the server: the model is run again and the change is
measured; a forged claim is refused."""

import numpy as np
import pytest
from conftest import tiny_mnist

from mnist_viz.adversarial import attacks
from mnist_viz.classroom.challenges import Challenge, ChallengeRejected, change_size, verify
from mnist_viz.core.cache import ModelCache
from mnist_viz.core.model import predict_proba


@pytest.fixture(scope="module")
def model(tiny_models_dir):
    return ModelCache(tiny_models_dir).load()


def fooled(model, challenge):
    """The smallest FGSM change that changes the answer, as the lab finds it."""
    x = challenge.image / 255.0
    epsilon = attacks.minimal_epsilon_fgsm(model.model, x)
    assert epsilon is not None
    adv = attacks.fgsm(model.model, x, [challenge.label], epsilon)
    return np.round(adv * 255) / 255.0  # the lab keeps 8-bit pixels


def test_a_real_submission_is_scored_by_the_servers_own_measure(model):
    data = tiny_mnist()
    image = data.x_test[0]
    label = int(predict_proba(model.model, image / 255.0)[0].argmax())
    challenge = Challenge(1, "fool", image, label, None, model.info.model_sha256)
    adv = fooled(model, challenge)
    measured = change_size(challenge, adv)
    assert verify(challenge, adv, measured, model.model, model.info.model_sha256) == measured
    assert measured == pytest.approx(np.max(np.abs(adv - image / 255.0)))


def test_forged_and_failed_submissions_are_refused(model):
    data = tiny_mnist()
    image = data.x_test[0]
    label = int(predict_proba(model.model, image / 255.0)[0].argmax())
    challenge = Challenge(1, "fool", image, label, None, model.info.model_sha256)
    adv = fooled(model, challenge)
    measured = change_size(challenge, adv)
    sha = model.info.model_sha256
    with pytest.raises(ChallengeRejected, match="smaller than the one the server measures"):
        verify(challenge, adv, measured / 2, model.model, sha)  # a smaller epsilon than it took
    with pytest.raises(ChallengeRejected, match="still reads it as"):
        verify(challenge, image / 255.0, 0.0, model.model, sha)  # not changed at all
    with pytest.raises(ChallengeRejected, match="another network"):
        verify(challenge, adv, measured, model.model, "0" * 64)
    with pytest.raises(ChallengeRejected, match="between 0 and 1"):
        verify(challenge, adv * 2, measured, model.model, sha)
    with pytest.raises(ChallengeRejected, match="28 x 28"):
        verify(challenge, adv[:20], measured, model.model, sha)


def test_a_target_challenge_is_scored_by_l2(model):
    data = tiny_mnist()
    image = data.x_test[1]
    label = int(predict_proba(model.model, image / 255.0)[0].argmax())
    target = (label + 1) % 10
    challenge = Challenge(2, "target", image, label, target, model.info.model_sha256)
    adv = attacks.pgd(model.model, image / 255.0, None, 0.5, steps=40, target=target)
    adv = np.round(adv * 255) / 255.0
    if int(predict_proba(model.model, adv)[0].argmax()) != target:
        pytest.skip("the tiny model could not be made to say the target")
    l2 = float(np.sqrt(np.sum((adv - image / 255.0) ** 2)))
    assert verify(challenge, adv, l2, model.model, model.info.model_sha256) == pytest.approx(l2)
    with pytest.raises(ChallengeRejected, match=f"not {target}"):
        verify(challenge, image / 255.0, 0.0, model.model, model.info.model_sha256)


def test_a_pixels_challenge_is_scored_by_the_pixels_jsma_changed(model):
    from mnist_viz.adversarial.jsma import jsma

    data = tiny_mnist()
    sha = model.info.model_sha256
    for index in range(20):  # a digit the tiny model can be made to say the target with JSMA
        image = data.x_test[index]
        label = int(predict_proba(model.model, image / 255.0)[0].argmax())
        target = (label + 1) % 10
        path = jsma(model.model, image, target)
        if path.fooled:
            break
    else:
        pytest.skip("JSMA could not make the tiny model say a target")
    challenge = Challenge(3, "pixels", image, label, target, sha)
    adv = path.image(path.pixels_to_flip)
    changed = path.pixels_to_flip
    # counted by the server itself: the pixels JSMA whitened, nothing else
    assert change_size(challenge, adv) == changed
    assert verify(challenge, adv, changed, model.model, sha) == changed
    with pytest.raises(ChallengeRejected, match="smaller than the one the server measures"):
        verify(challenge, adv, changed - 2, model.model, sha)  # fewer pixels than it took
    with pytest.raises(ChallengeRejected, match=f"not {target}"):
        verify(challenge, image / 255.0, 0, model.model, sha)
    # a change of less than half a grey level is no change
    assert change_size(challenge, image / 255.0 + 0.4 / 255) == 0


def test_a_challenges_kind_says_its_aim_and_its_measure():
    from mnist_viz.classroom.challenges import KINDS, claimed_size

    assert KINDS["fool"].aim(None) == "change the network's answer with the smallest epsilon"
    assert KINDS["target"].aim(3) == "make it say 3 with the smallest L2 change"
    assert KINDS["pixels"].aim(3) == "make it say 3 changing the fewest pixels"
    assert KINDS["pixels"].claim_text(12.0) == "12 pixels changed"
    assert KINDS["fool"].claim_text(0.1) == "epsilon 0.10"
    assert claimed_size("pixels", 0.9, 3.2, 12) == 12.0
    assert claimed_size("fool", 0.1, 3.2, 12) == 0.1
    assert claimed_size("target", 0.1, 3.2, 12) == 3.2
