"""Shared fixtures: tiny synthetic MNIST-like data, IDX writers, and the official MNIST when present."""

from __future__ import annotations

import gzip
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(
    0, str(ROOT)
)  # the app imports `ui.*` and `mnist_viz.*` from here, as under `streamlit run`

from mnist_viz.core.data import IMAGES_MAGIC, LABELS_MAGIC, MnistData  # noqa: E402


def write_idx(path: Path, array: np.ndarray, magic: int, *, compress: bool | None = None) -> Path:
    """Write ``array`` (uint8) as an IDX file, gzip-compressed when the name ends in .gz."""
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    raw = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    compress = path.suffix == ".gz" if compress is None else compress
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


def synthetic_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n uint8 28x28 images of 10 easily separable classes (a bar at a class-specific place)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = (rng.random((n, 28, 28)) * 40).astype(np.uint8)
    for i, label in enumerate(labels):
        row = 4 + 2 * int(label)
        images[i, row : row + 3, 6:22] = 255
    return images, labels


def tiny_mnist(n_train: int = 512, n_test: int = 128) -> MnistData:
    x_train, y_train = synthetic_digits(n_train, seed=1)
    x_test, y_test = synthetic_digits(n_test, seed=2)
    return MnistData(x_train, y_train, x_test, y_test, "path", "synthetic")


def write_idx_folder(folder: Path, data: MnistData, suffix: str = ".gz") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / f"train-images-idx3-ubyte{suffix}", data.x_train, IMAGES_MAGIC)
    write_idx(folder / f"train-labels-idx1-ubyte{suffix}", data.y_train, LABELS_MAGIC)
    write_idx(folder / f"t10k-images-idx3-ubyte{suffix}", data.x_test, IMAGES_MAGIC)
    write_idx(folder / f"t10k-labels-idx1-ubyte{suffix}", data.y_test, LABELS_MAGIC)
    return folder


@pytest.fixture
def tiny_data() -> MnistData:
    return tiny_mnist()


@pytest.fixture
def tiny_idx_folder(tmp_path: Path) -> Path:
    return write_idx_folder(tmp_path / "mnist", tiny_mnist())


@pytest.fixture(scope="session")
def official_mnist_path() -> Path:
    """The complete official MNIST (set MNIST_TEST_DATA; the Makefile points it at ../shared)."""
    path = os.environ.get("MNIST_TEST_DATA") or str(ROOT.parent / "shared" / "data" / "mnist")
    if not Path(path, "train-images-idx3-ubyte.gz").is_file():
        message = f"the official MNIST is not at {path} (set MNIST_TEST_DATA)"
        if os.environ.get("MNIST_VIZ_REQUIRE_DATA") == "1":  # CI: the accuracy promises must run
            pytest.fail(message)
        pytest.skip(message)
    return Path(path)


TINY_PEN_DIGITS = 120


def pen_text_head(digits: int) -> str:
    """The shipped pen-digit file cut after its first ``digits`` digits (real writers' data)."""
    from mnist_viz.core.pendigits import SHIPPED, read_text

    text = read_text(SHIPPED)
    starts = [m.start() for m in re.finditer(r"^\.SEGMENT", text, re.MULTILINE)][: digits + 1]
    return text[: starts[digits]] if len(starts) > digits else text


@pytest.fixture(scope="session")
def tiny_pen_file(tmp_path_factory) -> Path:
    """The first 120 of the shipped pen digits, so tiny trainings mix in pen digits in a blink."""
    path = tmp_path_factory.mktemp("pen") / "pendigits-head.tra"
    path.write_text(pen_text_head(TINY_PEN_DIGITS), encoding="ascii")
    return path


@pytest.fixture(scope="session", autouse=True)
def _few_pen_digits_for_session_fixtures(tiny_pen_file):
    """The session's shared models (tiny ones, the small real one) learn from the few pen
    digits too: they are built before any test's own settings apply."""
    from mnist_viz.core.pendigits import PEN_DATA_ENV_VAR

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PEN_DATA_ENV_VAR, str(tiny_pen_file))
        yield


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch, tmp_path, tiny_pen_file):
    """Tests never read the developer's MNIST_DATA, Keras cache or models/ folder by accident,
    and train on a few pen digits rather than all 7,494 (the full-training suites ask for them)."""
    from mnist_viz.core.pendigits import PEN_DATA_ENV_VAR

    monkeypatch.delenv("MNIST_DATA", raising=False)
    monkeypatch.setenv(PEN_DATA_ENV_VAR, str(tiny_pen_file))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("MNIST_VIZ_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("MNIST_VIZ_DATA_DIR", str(tmp_path / "data"))


def canvas_drawing(digit: str, size: int = 280, width: int = 18) -> np.ndarray:
    """A canvas-like RGBA drawing (white ink on opaque black) of a "1" or a "0"."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (size, size), (0, 0, 0, 255))
    draw = ImageDraw.Draw(img)
    if digit == "1":
        draw.line([(145, 45), (138, 235)], fill=(255, 255, 255, 255), width=width)
    elif digit == "0":
        draw.ellipse([(85, 40), (195, 240)], outline=(255, 255, 255, 255), width=width)
    else:
        raise ValueError(digit)
    return np.asarray(img)


def canvas_state(image: np.ndarray, strokes: int = 1) -> dict:
    """What streamlit-drawable-canvas keeps in session state after a drawing: its fabric.js JSON
    (one Path object per stroke) and a PNG data URL of the canvas."""
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return {"drawing": {"raw": {"objects": [{"type": "Path"}] * strokes}, "data": url}}


@pytest.fixture(scope="session")
def mnist_model_dir(official_mnist_path, tmp_path_factory) -> Path:
    """A small model trained for real (1 epoch on 20,000 MNIST digits, ~98%), cached once per
    test session: for tests that need real predictions, such as drawn digits."""
    from mnist_viz.core.cache import ModelCache
    from mnist_viz.core.data import load_mnist
    from mnist_viz.core.training import TrainConfig

    full = load_mnist(official_mnist_path)
    subset = MnistData(
        full.x_train[:20_000],
        full.y_train[:20_000],
        full.x_test,
        full.y_test,
        "path",
        "MNIST subset",
    )
    directory = _shared_across_workers(tmp_path_factory, "mnist_model")
    # the cache's own lock: under pytest-xdist the first worker trains, the others wait and load
    ModelCache(directory).load_or_train(lambda: subset, TrainConfig(epochs=1))
    return directory


def _shared_across_workers(tmp_path_factory, name: str) -> Path:
    """A folder for the whole test run: under pytest-xdist, one for every worker (beside their
    own base folders), so a session fixture's training is done once, not once per worker."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        folder = tmp_path_factory.getbasetemp().parent / name
        folder.mkdir(exist_ok=True)
        return folder
    return tmp_path_factory.mktemp(name)


# -- the class's database: SQLite, and a throwaway PostgreSQL ---------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL server of its own (``deploy/postgres.py``: initdb and pg_ctl on a temporary
    folder, a local socket), for the session; its URL. Missing PostgreSQL fails where CI
    requires it, else skips."""
    import shutil
    import tempfile

    from deploy.postgres import LocalPostgres, binaries

    if binaries() is None:
        if os.environ.get("MNIST_VIZ_REQUIRE_DATABASE") == "1":
            pytest.fail("PostgreSQL (initdb, pg_ctl) is required here but missing")
        pytest.skip("PostgreSQL is not installed")
    # not under pytest's folders: those are private to the user running the tests
    root = Path(tempfile.mkdtemp(prefix="mnist-viz-postgres-"))
    server = LocalPostgres(root)
    server.start()
    try:
        yield server.url
    finally:
        server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    """An empty, migrated class database on each back-end."""
    from mnist_viz.classroom.store import Store

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'class.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
        reset = Store(url)
        for table in (
            "submissions",
            "challenges",
            "drawings",
            "students",
            "classes",
            "schema_version",
        ):
            reset.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
        reset.close()
    db = Store(url)
    db.migrate()
    yield db
    db.close()


# -- AppTest --------------------------------------------------------------------------------------

APP_TIMEOUT = 120  # seconds: TensorFlow start-up and a first model load take several


def app_test(timeout: float = APP_TIMEOUT):
    """An AppTest of the whole app (router included), not yet run."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)


def save_tiny_model(
    models_dir: Path,
    data: MnistData | None = None,
    arch=None,
    name: str | None = None,
    quick: bool = False,
) -> Path:
    """Train a tiny model on synthetic data (1 epoch) and cache it in ``models_dir``: the classic
    network unless ``arch`` (an ``Architecture``) is given, under ``name`` (default: the cache's
    name for the architecture). ``quick``: on MNIST's images alone, without augmentation, for
    tests that need a network of that shape, not the default recipe."""
    from mnist_viz.core.cache import ModelCache, model_name
    from mnist_viz.core.data_mix import MIX_MNIST
    from mnist_viz.core.training import TrainConfig

    data = data or tiny_mnist()
    recipe = {"augment": False, "data_mix": MIX_MNIST} if quick else {}
    config = TrainConfig(epochs=1, batch_size=64, **({"arch": arch} if arch else {}), **recipe)
    cache = ModelCache(models_dir, name or model_name(config.arch.name))
    with cache.lock():
        cache.save(_tiny_training(data, config), data)
    return Path(models_dir)


_TINY_TRAININGS: dict[tuple, object] = {}


def _tiny_training(data: MnistData, config):
    """``train_model(data, config)``, once per process for the same data, recipe and pen
    digits: many tests need the same tiny model saved (the save itself runs every time), and
    each training costs seconds. Callers read the saved files, never the shared result."""
    import hashlib

    from mnist_viz.core.pendigits import PEN_DATA_ENV_VAR
    from mnist_viz.core.training import train_model

    digest = hashlib.sha256()
    for array in (data.x_train, data.y_train, data.x_test, data.y_test):
        digest.update(np.ascontiguousarray(array).tobytes())
    key = (digest.hexdigest(), data.describe(), repr(config), os.environ.get(PEN_DATA_ENV_VAR))
    if key not in _TINY_TRAININGS:
        _TINY_TRAININGS[key] = train_model(data, config)
    return _TINY_TRAININGS[key]


@pytest.fixture(scope="module")
def taught_base():
    """(data, model): a small network trained on synthetic digits (2 epochs, no augmentation),
    the served network that fine-tuning starts from; one per test module."""
    from mnist_viz.core.training import TrainConfig, train_model

    data = tiny_mnist(1000, 300)
    model = train_model(data, TrainConfig(epochs=2, batch_size=64, augment=False)).model
    return data, model


@pytest.fixture(scope="session")
def tiny_models_dir(tmp_path_factory) -> Path:
    """A cached tiny model, shared by the whole session: read it, or copy it before writing."""
    return save_tiny_model(tmp_path_factory.mktemp("tiny_models"))


@pytest.fixture
def fresh_streamlit_caches(monkeypatch):
    """Streamlit's caches outlive an AppTest: empty them around each test, once the background
    jobs the test started (style reference, reports, teaching) have finished, so that none of
    them is still using TensorFlow while the next test loads, trains and frees its models.

    The model loader's heap settling is left out here: it is a full collection of the whole
    process (about a second in a test process), and every AppTest loads its models afresh, which
    made it 70 s of CPU in a `make check`. What it does is tested in tests/test_runtime.py, and
    the browser tests' real servers run it."""
    import streamlit as st

    from mnist_viz.classroom.retention import stop_every_retention
    from mnist_viz.core.jobs import wait_for_every_queue

    monkeypatch.setattr("ui.models.settle_heap", lambda: None)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    assert wait_for_every_queue(timeout=300), "a background job ran on for 5 minutes"
    stop_every_retention()  # the class's purge thread of this test's store
    st.cache_resource.clear()
    st.cache_data.clear()


TEACHER_PASSWORD = "correct horse"


@pytest.fixture
def teacher_password(monkeypatch) -> str:
    """A teacher password, set the way a teacher would (the environment variable)."""
    from mnist_viz.classroom.access import PASSWORD_ENV_VAR

    monkeypatch.setenv(PASSWORD_ENV_VAR, TEACHER_PASSWORD)
    return TEACHER_PASSWORD


def sign_in_as_teacher(at, password: str = TEACHER_PASSWORD):
    """Type the password into the sidebar's teacher form and submit it."""
    at.text_input(key="teacher_password_input").input(password)
    next(b for b in at.button if b.label == "Sign in").click()
    return at.run()


def finish_training(at, key: str, timeout: float = 180):
    """Wait for the training this session started (kept under ``key`` in its session state),
    then rerun the page, as the page's own watcher would."""
    job = at.session_state[key]
    assert job.wait(timeout), "the training did not finish in time"
    return at.run()


# -- a real browser ---------------------------------------------------------------------------

from deploy.browser import CHROMIUM, launch  # noqa: E402  (shared with bench/)


def chromium_or_skip() -> str:
    """Debian's Chromium; a skip where it is missing, a failure where it is required (CI)."""
    import shutil

    path = shutil.which(CHROMIUM) or (CHROMIUM if Path(CHROMIUM).is_file() else None)
    if path is None:
        if os.environ.get("MNIST_VIZ_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required here but {CHROMIUM} is missing")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    return path


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through playwright, for one test module."""
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p, executable)
        yield b
        b.close()


def pytest_collection_finish(session) -> None:
    """Once every test module is imported (TensorFlow, Keras, Streamlit), move what lives into
    the collector's permanent generation, as the app's model loader does: the collector's
    automatic full passes then walk only what tests create, not those ~500,000 objects."""
    import gc

    gc.collect()
    gc.freeze()
