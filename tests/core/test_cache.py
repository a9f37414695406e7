import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import ROOT, TINY_PEN_DIGITS, tiny_mnist

from mnist_viz.core import cache as cache_module
from mnist_viz.core.architecture import Architecture
from mnist_viz.core.cache import ModelCache
from mnist_viz.core.data_mix import MIX_MNIST
from mnist_viz.core.errors import ModelCacheError
from mnist_viz.core.training import RECIPE_VERSION, TrainConfig

TINY = TrainConfig(epochs=1, batch_size=64)
# Where a test only needs the cache to hold some model, a quicker one (a tiny MLP on MNIST's
# images alone, no augmentation: about 1.5 s instead of 4).
QUICK_NET = Architecture("mlp", filters=(), dense=8)


def quick(seed: int = 0) -> TrainConfig:
    return TrainConfig(
        epochs=1, batch_size=64, augment=False, data_mix=MIX_MNIST, arch=QUICK_NET, seed=seed
    )


class CountingLoader:
    """A data loader that counts how often training asked for data."""

    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return tiny_mnist()


@pytest.fixture
def cache(tmp_path):
    return ModelCache(tmp_path / "models")


@pytest.fixture(scope="module")
def first_training(tmp_path_factory):
    """The first call on an empty cache trains (once per module: every test gets a copy)."""
    folder = tmp_path_factory.mktemp("first") / "models"
    loader = CountingLoader()
    first = ModelCache(folder).load_or_train(loader, TINY)
    assert loader.calls == 1 and first.trained_now
    return folder


@pytest.fixture
def trained(cache, first_training):
    """A cache holding the model the first call trained, as that call left it."""
    shutil.copytree(first_training, cache.directory, dirs_exist_ok=True)
    loaded = cache.load()
    assert not loaded.trained_now and loaded.problem is None
    return loaded


def test_first_call_trains_and_writes_model_and_metadata(cache, trained):
    assert cache.model_path.is_file() and cache.info_path.is_file()
    meta = json.loads(cache.info_path.read_text())
    for key in (
        "recipe_version",
        "created",
        "config",
        "data_source",
        "data_description",
        "n_train",
        "n_test",
        "test_accuracy",
        "per_class_accuracy",
        "training_seconds",
        "history",
        "versions",
        "model_sha256",
    ):
        assert key in meta, key
    assert meta["recipe_version"] == RECIPE_VERSION
    # MNIST's 512 and two renderings of each of the tests' pen digits, both named
    assert meta["n_train"] == 512 + 2 * TINY_PEN_DIGITS and meta["config"]["epochs"] == 1
    assert [s["images"] for s in meta["sources"]] == [512, 2 * TINY_PEN_DIGITS]
    assert {"tensorflow", "keras", "numpy", "python"} <= set(meta["versions"])
    assert meta["history"]["test_accuracy"][-1] == pytest.approx(meta["test_accuracy"], abs=1e-6)
    # Nothing half-written is left behind, and the files are readable like any saved file.
    version = f"mnist_cnn.{meta['model_sha256'][:16]}"
    assert sorted(p.name for p in cache.directory.iterdir()) == [
        f"{version}.keras",
        f"{version}.snapshots.npz",
        "mnist_cnn.json",
        "mnist_cnn.lock",
    ]
    assert meta["files"] == {"model": f"{version}.keras", "snapshots": f"{version}.snapshots.npz"}
    assert stat.S_IMODE(cache.model_path.stat().st_mode) == 0o644
    assert stat.S_IMODE(cache.snapshots_path.stat().st_mode) == 0o644


def test_second_call_loads_without_training(cache, trained):
    loader = CountingLoader()
    again = cache.load_or_train(loader, TINY)
    assert loader.calls == 0 and not again.trained_now
    assert again.info == trained.info
    images = tiny_mnist().x_test[:4]
    assert (
        again.model(images[..., None] / 255.0).numpy().argmax(1)
        == trained.model(images[..., None] / 255.0).numpy().argmax(1)
    ).all()


@pytest.mark.parametrize(
    "damage",
    [
        lambda c: c.model_path.write_bytes(b"PK\x03\x04 this is not a keras archive"),
        lambda c: c.model_path.write_bytes(c.model_path.read_bytes()[:1000]),
        lambda c: c.info_path.write_text("{ not json"),
        lambda c: c.info_path.write_text("[]"),
        lambda c: c.info_path.write_text(json.dumps({"recipe_version": RECIPE_VERSION})),
        lambda c: c.model_path.unlink(),
        lambda c: c.info_path.unlink(),
    ],
    ids=[
        "garbage-model",
        "truncated-model",
        "bad-json",
        "json-list",
        "json-fields",
        "no-model",
        "no-json",
    ],
)
def test_a_damaged_only_model_is_trained_again_and_says_so(cache, trained, damage, request):
    damage(cache)
    with pytest.raises(ModelCacheError):
        cache.load()
    loader = CountingLoader()
    again = cache.load_or_train(loader, quick())
    assert loader.calls == 1 and again.trained_now
    assert cache.load().info == again.info
    if request.node.callspec.id == "no-json":  # no metadata at all: a first run, nothing to say
        assert again.problem is None
    else:
        assert "could not be used" in again.problem and "trained again" in again.problem


DAMAGES = {
    "garbage-model": lambda c: c.model_path.write_bytes(b"PK\x03\x04 not a keras archive"),
    "no-model": lambda c: c.model_path.unlink(),
    "bad-json": lambda c: c.info_path.write_text("{ not json"),
    "no-json": lambda c: c.info_path.unlink(),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_model_falls_back_to_the_one_before_it_without_training(cache, trained, damage):
    """A teacher's model replaced the first one; if it is damaged, the first one is served and
    the problem said, and nothing is trained over it."""
    teachers = cache.train(CountingLoader(), quick(seed=5))
    DAMAGES[damage](cache)
    best = cache.load_best()
    assert best.info.model_sha256 == trained.info.model_sha256 and best.problem
    loader = CountingLoader()
    served = cache.load_or_train(loader, TINY)
    assert loader.calls == 0 and not served.trained_now
    assert served.info.model_sha256 in {trained.info.model_sha256, teachers.info.model_sha256}


def test_model_replaced_behind_the_metadata_is_not_trusted(cache, trained, tmp_path):
    other = ModelCache(tmp_path / "other")
    other.load_or_train(CountingLoader(), quick(seed=7))
    cache.model_path.write_bytes(other.model_path.read_bytes())
    with pytest.raises(ModelCacheError, match="does not match its metadata"):
        cache.load()


def test_recipe_change_retrains(cache, trained, monkeypatch):
    monkeypatch.setattr(cache_module, "RECIPE_VERSION", RECIPE_VERSION + 1)
    with pytest.raises(ModelCacheError, match=f"recipe v{RECIPE_VERSION}"):
        cache.load()
    loader = CountingLoader()
    assert cache.load_or_train(loader, quick()).trained_now and loader.calls == 1
    assert json.loads(cache.info_path.read_text())["recipe_version"] == RECIPE_VERSION + 1


def test_train_always_replaces_the_cache(cache, trained):
    loader = CountingLoader()
    again = cache.train(loader, quick(seed=3))
    assert loader.calls == 1 and again.info.model_sha256 != trained.info.model_sha256
    assert cache.load().info.model_sha256 == again.info.model_sha256


def test_a_failed_training_leaves_the_old_cache_intact(cache, trained):
    def broken_loader():
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        cache.train(broken_loader, TINY)
    assert cache.load().info == trained.info


def test_unwritable_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(ModelCacheError, match="cannot create the model folder"):
        ModelCache(blocker / "models").load_or_train(CountingLoader(), TINY)


@pytest.mark.process
def test_lock_waits_for_another_process_and_says_so(cache):
    cache.directory.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import time, filelock
            with filelock.FileLock({str(cache.lock_path)!r}):
                print("locked", flush=True)
                time.sleep(1.5)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    waited = []
    start = time.monotonic()
    with cache.lock(on_wait=lambda: waited.append(True)):
        held_after = time.monotonic() - start
    holder.wait(timeout=30)
    assert waited == [True] and held_after > 0.5
    with cache.lock(on_wait=lambda: waited.append(True)):
        pass
    assert waited == [True]  # a free lock does not report waiting


WORKER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r}); sys.path.insert(0, {tests!r})
    from conftest import tiny_mnist
    from mnist_viz.core.cache import ModelCache
    from mnist_viz.core.training import TrainConfig

    def loader():
        with open({count!r}, "a") as f:
            f.write("trained\\n")
        time.sleep(3)  # hold the lock long enough for the other process to arrive
        return tiny_mnist()

    waited = []
    result = ModelCache({models!r}).load_or_train(
        loader, TrainConfig(epochs=1, batch_size=64), on_wait=lambda: waited.append(1)
    )
    print(result.info.model_sha256, result.trained_now, bool(waited))
    """
)


@pytest.mark.process
def test_two_processes_starting_together_train_once(tmp_path):
    count = tmp_path / "count.txt"
    script = WORKER.format(
        root=str(ROOT), tests=str(ROOT / "tests"), count=str(count), models=str(tmp_path / "models")
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-2000:]
    lines = [out.split() for out, _ in outputs]
    assert count.read_text().count("trained") == 1
    assert lines[0][0] == lines[1][0]  # both ended with the same model
    assert sorted(line[1] for line in lines) == ["False", "True"]  # one trained, one loaded
    version = f"mnist_cnn.{lines[0][0][:16]}"
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [
        f"{version}.keras",
        f"{version}.snapshots.npz",
        "mnist_cnn.json",
        "mnist_cnn.lock",
    ]


@pytest.mark.process
def test_the_lock_gives_up_with_a_message_instead_of_waiting_forever(cache):
    cache.directory.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import time, filelock
            with filelock.FileLock({str(cache.lock_path)!r}):
                print("locked", flush=True)
                time.sleep(30)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        start = time.monotonic()
        with (
            pytest.raises(ModelCacheError, match="writing the mnist_cnn model for too long"),
            cache.lock(timeout=0.5),
        ):
            pass
        assert time.monotonic() - start < 5
    finally:
        holder.kill()
        holder.wait()


def test_only_the_current_and_the_previous_model_files_are_kept(cache, trained):
    shas = [trained.info.model_sha256]
    for seed in (11, 12):
        shas.append(cache.train(CountingLoader(), quick(seed=seed)).info.model_sha256)
    kept = sorted(p.name for p in cache.directory.glob("mnist_cnn.*.keras"))
    assert kept == sorted(f"mnist_cnn.{sha[:16]}.keras" for sha in shas[1:])
    assert json.loads(cache.previous_path.read_text())["model_sha256"] == shas[1]


def test_leftover_temporary_files_are_cleaned(cache, trained):
    stale = cache.directory / ".mnist_cnn-crashed.keras"
    fresh = cache.directory / ".mnist_cnn-writing-now.keras"
    stale.write_bytes(b"half a model")
    fresh.write_bytes(b"a writer at work")
    old = time.time() - 2 * cache_module.STALE_TEMP_SECONDS
    os.utime(stale, (old, old))
    assert cache.clean_leftovers() == [stale]
    assert not stale.exists() and fresh.exists()


def test_the_trained_models_of_a_folder_are_listed_with_their_networks(cache, trained, tmp_path):
    from mnist_viz.core.cache import architecture_of, model_label, trained_models

    mlp = QUICK_NET
    ModelCache(cache.directory, "mnist_mlp").train(tiny_mnist, quick())
    (cache.directory / "mnist_broken.json").write_text("{not json")  # not offered
    (cache.directory / "README.md").write_text("not a model")
    found = trained_models(cache.directory)
    assert list(found) == ["mnist_cnn", "mnist_mlp"]
    assert architecture_of(found["mnist_mlp"]) == mlp
    assert architecture_of(found["mnist_cnn"]).name == "classic"
    assert model_label(found["mnist_mlp"]) == "mlp"
    # a model saved before specs were stored is the classic network
    old = {**found["mnist_cnn"].config}
    old.pop("arch")
    legacy = cache_module.ModelInfo(**{**found["mnist_cnn"].__dict__, "config": old})
    assert architecture_of(legacy).name == "classic"
    adversarial = cache_module.ModelInfo(
        **{**found["mnist_cnn"].__dict__, "config": {"attack": "PGD", "epsilon": 0.3}}
    )
    assert model_label(adversarial) == "classic, adversarially trained (PGD, epsilon 0.3)"
    assert trained_models(tmp_path / "nowhere") == {}


def test_weight_snapshots_are_kept_with_the_model_they_belong_to(cache, trained):
    import numpy as np

    from mnist_viz.core.training import SNAPSHOT_FRACTIONS

    snapshots = cache.read_snapshots(trained.info)
    total = snapshots[-1].steps
    assert [s.step for s in snapshots] == sorted({round(f * total) for f in SNAPSHOT_FRACTIONS})
    assert snapshots[0].step == 0 and snapshots[-1].step == total
    final = trained.model.get_weights()
    for saved, now in zip(snapshots[-1].weights, final, strict=True):
        np.testing.assert_array_equal(saved, now)  # the last snapshot is the trained model
    assert not np.array_equal(snapshots[0].weights[0], final[0])  # the first one is not
    # snapshots of another version of the model are not offered as this one's
    other = cache_module.ModelInfo(**{**trained.info.__dict__, "model_sha256": "0" * 64})
    assert cache.read_snapshots(other) == []
    cache.snapshots_path.write_bytes(b"damaged")
    assert cache.read_snapshots(trained.info) == []


@pytest.mark.parametrize(
    "name", ["../../x", "/etc/passwd", "mnist_cnn/../../y", "Mnist", "", "a" * 65, "x.json", None]
)
def test_a_model_name_can_never_become_a_path_outside_the_folder(tmp_path, name):
    with pytest.raises(ModelCacheError) as error:
        ModelCache(tmp_path, name)
    assert "not the name of a model" in str(error.value)
    assert str(name) not in str(error.value) or name in ("", None)  # never echoed back


def test_only_files_this_cache_could_have_written_are_listed(tmp_path):
    (tmp_path / "Odd Name.json").write_text("{}")
    (tmp_path / "..json").write_text("{}")
    assert cache_module.trained_models(tmp_path) == {}
