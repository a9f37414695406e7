"""The app's cached loaders, shared by every page: the one place that holds Streamlit caches.

The model is shared read-only by all sessions, so it uses ``st.cache_resource`` (no copy per call).
Training and heavy one-off results run as background jobs (``mnist_viz.jobs``), one at a time per
queue and once however many sessions ask; training itself runs in a niced child process
(``mnist_viz.worker``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

import keras
import numpy as np
import streamlit as st

from mnist_viz import (
    attacks,
    charts,
    dataset_stats,
    explanations,
    invariance,
    personal,
    rsa,
    style,
    timeline,
)
from mnist_viz.activations import build_activation_model
from mnist_viz.adversarial_training import ADVERSARIAL_MODEL
from mnist_viz.architecture import DEFAULT_ARCH, preset
from mnist_viz.cache import (
    STANDARD_MODEL,
    CachedModel,
    ModelCache,
    ModelInfo,
    model_name,
    trained_models,
)
from mnist_viz.cortex import CortexReport, cortex_report
from mnist_viz.data import MnistData, load_mnist
from mnist_viz.errors import DataError, ModelCacheError
from mnist_viz.filter_vis import FilterReport, filter_reports
from mnist_viz.jobs import RUNNING, Job, JobQueue, SharedResults
from mnist_viz.lab import RobustnessCurve, Sweep, attack_sweep, measure_robustness, sweep_view
from mnist_viz.model import Evaluation, evaluate, predict_proba, to_model_input
from mnist_viz.training import Snapshot, TrainingProgress
from mnist_viz.worker import STANDARD, TrainingError, TrainSpec, run_training
from pages._runtime import settle_heap

POLL_SECONDS = 0.25  # a page waiting for a result it needs checks this often
SHIFT_TEST_DIGITS = 300  # test digits the compare page shifts
TIMELINE_TEST_DIGITS = 1000  # test digits each training snapshot is scored on
CURVE_EVERY_POLLS = 8  # a training's live curve is redrawn every 2 s
WATCH_SECONDS = 2.0  # a page watching someone's training refreshes its panel this often
TRAINING, COMPUTE = "training", "compute"  # the two job queues
ARCH_ENV_VAR = "MNIST_VIZ_ARCH"  # the network the app serves (and trains on first run)
SESSION_MODEL = "session_model"  # session state: the cached model this session looks at
FIRST_RUN_MESSAGE = (
    "**First run: training the network.** This happens once (about half a minute on a laptop); "
    "the trained model is cached in `models/` for every later visit. Training goes on if you "
    "close this tab."
)


@st.cache_resource(show_spinner="Loading the trained model...", max_entries=4)
def _load_model(models_dir: str, model_sha256: str, name: str = STANDARD_MODEL) -> CachedModel:
    # Keyed on the file's hash: a retrained model (new hash) is loaded once, then shared.
    cached = ModelCache(models_dir, name).load()
    predict_proba(cached.model, np.zeros((1, 28, 28), np.uint8))  # trace it before freezing
    settle_heap()
    return cached


@st.cache_resource(show_spinner="Loading MNIST...")
def _load_data() -> MnistData:
    # cache_resource, not cache_data: cache_data would copy the 55 MB of arrays on every call.
    # The arrays are only ever read.
    return load_mnist()


@st.cache_resource(max_entries=4, show_spinner=False)
def get_snapshots(name: str, model_sha256: str) -> list[Snapshot]:
    """The weights the session's model had as it trained (empty if none were kept)."""
    cache = ModelCache(name=name)
    try:
        return cache.read_snapshots(cache.read_info())
    except ModelCacheError:
        return []


@st.cache_resource(max_entries=12, show_spinner=False)
def get_model_at(model_sha256: str, index: int, _model: keras.Model, _snapshot: Snapshot):
    """The model as it was at one snapshot, its activations sub-model, and its accuracy on the
    first ``TIMELINE_TEST_DIGITS`` test digits: built once, shared by every session."""
    then = timeline.model_at(_model, _snapshot)
    data = get_data()
    n = TIMELINE_TEST_DIGITS
    accuracy = timeline.accuracy_at(_model, _snapshot, data.x_test[:n], data.y_test[:n])
    return then, build_activation_model(then), accuracy


def get_data() -> MnistData:
    """MNIST from the same sources training uses; on failure a clear message and the page stops."""
    try:
        return _load_data()
    except DataError as exc:
        _data_error(exc)
        st.stop()


@st.cache_resource(max_entries=2)
def get_activation_model(model_sha256: str, _model: keras.Model) -> keras.Model:
    """The sub-model that returns every layer's output, built once per trained model."""
    return build_activation_model(_model)


@st.cache_data(show_spinner="Evaluating the model on the test set...", max_entries=2)
def get_evaluation(model_sha256: str, _model: keras.Model, _data: MnistData) -> Evaluation:
    """Accuracy and confusion matrix on the whole test set, once per trained model."""
    return evaluate(_model, _data.x_test, _data.y_test)


@st.cache_data(max_entries=2)
def get_mean_images(data_location: str, _data: MnistData) -> np.ndarray:
    """The average training image of each class."""
    return dataset_stats.mean_images(_data.x_train, _data.y_train)


# -- background jobs: training and heavy results, shared by every session -------------------------


@st.cache_resource
def _queues() -> dict[str, JobQueue]:
    # One set per server process. Trainings run one at a time; so do heavy one-off computations,
    # in their own queue so that a 3-minute training does not hold up a 5-second filter report.
    return {TRAINING: JobQueue(TRAINING), COMPUTE: JobQueue(COMPUTE)}


def _training_key(name: str) -> str:
    return str(ModelCache(name=name).model_path)


def training_job(name: str = STANDARD_MODEL) -> Job | None:
    """The training queued or running for the shared model ``name`` (started by any session)."""
    return _queues()[TRAINING].get(_training_key(name))


def submit_training(
    name: str,
    recipe: str = STANDARD,
    config: dict | None = None,
    title: str = "",
    load_first: bool = False,
) -> Job:
    """Train the shared model ``name`` in a niced child process (``mnist_viz.worker``), after
    any training already queued. The new model replaces the cached one atomically when it is
    done; every session keeps using the current one until then."""
    cache = ModelCache(name=name)
    spec = TrainSpec(str(cache.directory), name, recipe, config, load_first)
    return _queues()[TRAINING].submit(
        _training_key(name),
        lambda report, waiting: run_training(spec, report, waiting),
        title or f"Training the {name} model",
    )


def _progress_text(job: Job, queue: JobQueue, message: str) -> tuple[float, str]:
    ahead = queue.position(job)
    if ahead:
        running = queue.running
        doing = f" (now: {running.title.lower()})" if running is not None and running.title else ""
        return 0.0, f"Waiting: {ahead} job{'s' if ahead != 1 else ''} ahead in the queue{doing}."
    if job.waiting:
        return 0.0, "Another server is training this model; waiting for it..."
    p = job.progress
    if isinstance(p, TrainingProgress):
        return p.fraction, (
            f"Epoch {p.epoch} of {p.epochs}, batch {p.batch} of {p.batches}: "
            f"loss {p.loss:.3f}, training accuracy {p.accuracy:.1%}"
        )
    if isinstance(p, int | float):
        return min(1.0, float(p)), message
    return 0.0, "Starting..." if job.status == RUNNING else message


def follow_job(job: Job, message: str, queue: str = TRAINING):
    """Show ``message``, the job's place in the queue and its progress until it ends; returns its
    result or re-raises its error. Blocks the page: for results the page cannot do without."""
    status = st.empty()
    status.info(message)
    jobs = _queues()[queue]
    bar = st.progress(0.0, text="Starting...")
    curve = st.empty()
    polls = 0
    while not job.wait(POLL_SECONDS):
        fraction, text = _progress_text(job, jobs, message)
        bar.progress(fraction, text=text)
        polls += 1
        points = [p for p in list(job.history) if isinstance(p, TrainingProgress)]
        if len(points) > 1 and polls % CURVE_EVERY_POLLS == 0:  # a training: watch it learn
            curve.vega_lite_chart(charts.live_training_chart(points), width="stretch")
    bar.empty()
    curve.empty()
    status.empty()
    if job.error is not None:
        raise job.error
    return job.result


def watch_training(job: Job, message: str) -> None:
    """A small panel that follows a training without holding up the page (a fragment polling the
    job); when it ends, the whole page reruns with the new model."""

    @st.fragment(run_every=WATCH_SECONDS)
    def panel() -> None:
        if job.done:
            st.rerun()
        fraction, text = _progress_text(job, _queues()[TRAINING], message)
        st.info(message, icon=":material/model_training:")
        st.progress(fraction, text=text)
        curve = [p for p in list(job.history) if isinstance(p, TrainingProgress)]
        if len(curve) > 1:
            st.vega_lite_chart(charts.live_training_chart(curve), width="stretch")
            st.caption(
                "Live, every few dozen batches: the loss and training accuracy averaged over the "
                "epoch so far (dropout on, augmented digits)."
            )

    panel()


def served_arch() -> str:
    """The preset named by ``MNIST_VIZ_ARCH`` (default ``classic``); the page stops with a clear
    message when it names none."""
    name = os.environ.get(ARCH_ENV_VAR) or DEFAULT_ARCH
    try:
        return preset(name).name
    except ValueError as exc:
        st.error(f"**`{ARCH_ENV_VAR}` names no network.** {exc}")
        st.stop()


def shared_model_name() -> str:
    """The cache name of the model every session starts with."""
    return model_name(served_arch())


def available_models() -> dict[str, ModelInfo]:
    """Every trained model a session may look at, by cache name."""
    return trained_models(ModelCache().directory)


def session_model_name() -> str:
    """The model this session looks at: its own choice while that model exists, else the shared
    one."""
    chosen = st.session_state.get(SESSION_MODEL)
    if chosen and chosen != shared_model_name() and ModelCache(name=chosen).info_path.is_file():
        return chosen
    return shared_model_name()


def get_model() -> CachedModel:
    """The session's model (``session_model_name``), training the shared one first (with a
    progress bar) if the cache has none.

    On a data, cache or training problem, shows a clear message and stops the page.
    """
    name = session_model_name()
    cache = ModelCache(name=name)
    try:
        try:
            info = cache.read_info()
            return _load_model(str(cache.directory), info.model_sha256, name)
        except ModelCacheError:
            if name != shared_model_name():
                raise
            arch = preset(served_arch())
            job = submit_training(
                name,
                config={"arch": arch.to_dict()},
                load_first=True,
                title="First run: training the network",
            )
            done = follow_job(job, FIRST_RUN_MESSAGE)
            loaded = _load_model(str(cache.directory), done["model_sha256"], name)
            if done["trained_now"]:
                st.success(
                    f"Trained and cached in {loaded.info.training_seconds:.1f} s: "
                    f"{loaded.info.test_accuracy:.2%} on the test set."
                )
            return dataclasses.replace(loaded, trained_now=done["trained_now"])
    except DataError as exc:
        _data_error(exc)
    except ModelCacheError as exc:
        st.error(f"**The model cache cannot be used.** {exc}")
    except TrainingError as exc:
        st.error(f"**The network could not be trained.** {exc}")
    st.stop()


def _data_error(exc: DataError) -> None:
    st.error(
        f"**MNIST could not be loaded.** {exc}\n\nPoint `MNIST_DATA` at a folder with the "
        "four official IDX files (or an `mnist.npz`), or unset it to use the built-in sources."
    )


# -- the adversarial lab ------------------------------------------------------------------------


def get_adversarial_model() -> CachedModel | None:
    """The adversarially trained model if one is cached (it is only trained on request)."""
    cache = ModelCache(name=ADVERSARIAL_MODEL)
    try:
        info = cache.read_info()
        return _load_model(str(cache.directory), info.model_sha256, ADVERSARIAL_MODEL)
    except ModelCacheError:
        return None


@st.cache_data(max_entries=64, show_spinner=False)
def get_fgsm_direction(
    model_sha256: str, digit_key: str, target: int | None, _model: keras.Model, _image: np.ndarray
) -> np.ndarray:
    """sign(grad): computed once per (model, digit, target), reused for every epsilon."""
    return attacks.fgsm_direction(_model, to_model_input(_image)[0, ..., 0], None, target)


@st.cache_data(max_entries=256, show_spinner=False)
def get_minimal_epsilon(
    model_sha256: str,
    digit_key: str,
    method: str,
    target: int | None,
    _model: keras.Model,
    _image: np.ndarray,
) -> float | None:
    """The smallest epsilon at which ``method`` fools the model on this digit (None: not by 0.5)."""
    x = to_model_input(_image)[0, ..., 0]
    if method == attacks.FGSM:
        direction = get_fgsm_direction(model_sha256, digit_key, target, _model, _image)
        return attacks.minimal_epsilon_fgsm(_model, x, target=target, direction=direction)
    return attacks.minimal_epsilon_pgd(_model, x, target=target)


@st.cache_data(max_entries=64, show_spinner="Attacking this digit at every epsilon...")
def get_sweep(
    model_sha256: str,
    digit_key: str,
    method: str,
    target: int | None,
    _model: keras.Model,
    _image: np.ndarray,
) -> Sweep:
    """One attack on one digit at every epsilon of the slider; FGSM reuses the cached direction."""
    direction = None
    if method == attacks.FGSM:
        direction = get_fgsm_direction(model_sha256, digit_key, target, _model, _image)
    return attack_sweep(_model, _image, method, target, direction=direction)


@st.cache_data(max_entries=64, show_spinner=False)
def get_sweep_view(
    model_sha256: str,
    digit_key: str,
    method: str,
    target: int | None,
    _model: keras.Model,
    _image: np.ndarray,
    flips: dict[str, float | None],
) -> dict:
    """What the slider component shows for that sweep (images as data URLs): sent once."""
    sweep = get_sweep(model_sha256, digit_key, method, target, _model, _image)
    return sweep_view(sweep, flips)


def _robustness_key(method: str) -> str:
    return f"robustness {method}"


def robustness_curves(model_sha256: str) -> dict[str, RobustnessCurve]:
    """The robustness curves computed so far for one model, by attack name."""
    store = _results()
    found = {m: store.get((_robustness_key(m), model_sha256)) for m in attacks.ATTACKS}
    return {m: curve for m, curve in found.items() if curve is not None}


def compute_robustness(model_sha256: str, model: keras.Model, method: str, label: str) -> None:
    """Compute (once per model) the accuracy-vs-epsilon curve for ``method``, with a progress bar."""
    data = get_data()
    computed_once(
        _robustness_key(method),
        model_sha256,
        lambda progress: measure_robustness(model, data, method, progress),
        f"{method} on the {label}...",
    )


# -- heavy results, once per model ----------------------------------------------------------------


@st.cache_resource
def _results() -> SharedResults:
    # Shared by every session: {(what, model sha): result}, computed on first request: robustness
    # curves, filter reports, the cortex report.
    return SharedResults(_queues()[COMPUTE])


def computed_once(what: str, model_sha256: str, compute: Callable, message: str):
    """A heavy per-model result (``compute(progress)``), computed once per server however many
    sessions ask at the same time: they all wait for the same job, each with a progress bar."""
    results, key = _results(), (what, model_sha256)
    if key in results:
        return results.get(key)
    job = results.request(key, compute, message)
    try:
        return follow_job(job, message, COMPUTE)
    except Exception as exc:  # a bug, but shown as a message, not a traceback
        st.error(f"This could not be computed ({type(exc).__name__}: {exc}). Reload to try again.")
        st.stop()


def get_filter_reports(cached: CachedModel) -> dict[str, FilterReport]:
    data = get_data()
    return computed_once(
        "filters",
        cached.info.model_sha256,
        lambda progress: filter_reports(cached.model, data.x_test, progress),
        "Finding what each filter wants to see (once per model, a few seconds)...",
    )


def get_cortex_report(cached: CachedModel) -> CortexReport:
    data = get_data()
    return computed_once(
        "cortex",
        cached.info.model_sha256,
        lambda progress: cortex_report(cached.model, data.x_test, progress),
        "Recording from every unit and fitting Gabor functions (once per model)...",
    )


@st.cache_data(max_entries=64, show_spinner=False)
def get_explanations(
    model_sha256: str, digit_key: str, class_index: int, _model: keras.Model, _image: np.ndarray
) -> dict[str, np.ndarray]:
    """Every applicable attribution map (28, 28) for one digit and class, by method name."""
    return explanations.explain(_model, _image, class_index)


@st.cache_data(max_entries=64, show_spinner=False)
def get_probes(model_sha256: str, digit_key: str, _model: keras.Model, _image: np.ndarray):
    """The invariance probes (shift, rotation, scale, thickness) of one digit."""
    return invariance.all_probes(_model, _image)


# -- the learner's own digits: style feedback and a private copy -----------------------------------


@st.cache_resource(max_entries=4)
def get_feature_model(model_sha256: str, _model: keras.Model) -> keras.Model:
    """The model's last hidden layer as a sub-model (``style.feature_model``)."""
    return style.feature_model(_model)


def _style_reference_job(cached: CachedModel) -> tuple[tuple, Callable, str] | None:
    try:
        data = _load_data()
    except DataError:  # no MNIST to compare with: the feedback is left out, the page goes on
        return None
    return (
        ("style", cached.info.model_sha256),
        lambda progress: style.fit_reference(
            cached.model, data.x_train, data.y_train, data.x_test, data.y_test, progress=progress
        ),
        "Comparing with MNIST's own digits (once per model, a few seconds)...",
    )


def warm_style_reference(cached: CachedModel) -> None:
    """Start computing the style reference in the background if nobody has, so that the first
    unsure drawing does not wait for it."""
    job = _style_reference_job(cached)
    if job is not None and job[0] not in _results():
        _results().request(*job)


def get_style_reference(cached: CachedModel) -> style.StyleReference | None:
    """MNIST's classes in the last hidden layer (once per model, a few seconds); None when MNIST
    cannot be loaded."""
    job = _style_reference_job(cached)
    if job is None:
        return None
    (what, sha), compute, message = job
    return computed_once(what, sha, compute, message)


def submit_teaching(cached: CachedModel, images: np.ndarray, labels: np.ndarray, tag: str) -> Job:
    """Teach private copies of the shared model the learner's examples, in the background, on
    the queue every heavy computation shares (``personal.teach``); ``tag`` names the session.
    Raises DataError when MNIST (needed for replay and the check) cannot be loaded."""
    data = _load_data()
    check = np.random.default_rng(0).permutation(len(data.y_test))[: personal.CHECK_DIGITS]
    return _queues()[COMPUTE].submit(
        f"teach:{tag}:{len(labels)}",
        lambda report, waiting: personal.teach(
            cached.model,
            images,
            labels,
            data.x_train,
            data.y_train,
            data.x_test[check],
            data.y_test[check],
            progress=report,
        ),
        "Teaching a private copy",
    )


# -- comparing two networks -----------------------------------------------------------------------


def load_named(name: str) -> CachedModel | None:
    """A trained model by cache name (another network than the session's), or None if unusable."""
    cache = ModelCache(name=name)
    try:
        return _load_model(str(cache.directory), cache.read_info().model_sha256, name)
    except ModelCacheError:
        return None


@st.cache_data(
    max_entries=8, show_spinner="Recording every layer's responses to 100 test digits..."
)
def get_rdms(model_sha256: str, _model: keras.Model) -> dict[str, np.ndarray]:
    """The RDM of every compared layer for the RSA stimuli (10 test digits of each class)."""
    data = get_data()
    return rsa.layer_rdms(_model, data.x_test[rsa.stimuli(data.y_test)])


@st.cache_data(max_entries=8, show_spinner="Shifting test digits left and right...")
def get_shift_accuracy(model_sha256: str, _model: keras.Model) -> np.ndarray:
    """Accuracy on the first ``SHIFT_TEST_DIGITS`` test digits at each shift of ``SHIFTS``."""
    data = get_data()
    n = SHIFT_TEST_DIGITS
    return invariance.shift_accuracy(_model, data.x_test[:n], data.y_test[:n])
