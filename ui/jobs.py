"""Background jobs every session shares: one training at a time, heavy results computed once
(``mnist_viz.core.jobs``), and the panels that follow them (a progress bar, live training curves)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from mnist_viz.core.cache import (
    STANDARD_MODEL,
    ModelCache,
)
from mnist_viz.core.jobs import RUNNING, Job, JobQueue, SharedResults
from mnist_viz.core.training import TrainingProgress
from mnist_viz.core.worker import STANDARD, TrainSpec, run_training
from mnist_viz.view import charts
from ui.chart import chart

POLL_SECONDS = 0.25  # a page waiting for a result it needs checks this often

CURVE_EVERY_POLLS = 8  # a training's live curve is redrawn every 2 s

WATCH_SECONDS = 2.0  # a page watching someone's training refreshes its panel this often

TRAINING, COMPUTE = "training", "compute"  # the two job queues


@st.cache_resource
def _queues() -> dict[str, JobQueue]:
    # One set per server process. Trainings run one at a time; so do heavy one-off computations,
    # in their own queue so that a 3-minute training does not hold up a 5-second filter report.
    return {TRAINING: JobQueue(TRAINING), COMPUTE: JobQueue(COMPUTE)}


def queue(name: str) -> JobQueue:
    """The server's ``TRAINING`` or ``COMPUTE`` queue."""
    return _queues()[name]


def this_session() -> tuple[str, Callable[[], bool]]:
    """This browser session's id, and a check (safe from any thread) that it is still open."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    session = ctx.session_id if ctx is not None else "no-session"

    def alive() -> bool:
        if not Runtime.exists():  # a test harness without a server: cannot tell, so yes
            return True
        return Runtime.instance().is_active_session(session)

    return session, alive


def _training_key(name: str) -> str:
    return str(ModelCache(name=name).info_path)


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
    """Train the shared model ``name`` in a niced child process (``mnist_viz.core.worker``), after
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
            with curve.container():
                chart(
                    charts.live_training_chart(points),
                    "Loss and training accuracy so far",
                    width="stretch",
                )
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
            chart(
                charts.live_training_chart(curve),
                "Loss and training accuracy so far",
                width="stretch",
            )
            st.caption(
                "Live, every few dozen batches: the loss and training accuracy averaged over the "
                "epoch so far (dropout on, augmented digits)."
            )

    panel()


@st.cache_resource
def shared_results() -> SharedResults:
    # Shared by every session: {(what, model sha): result}, computed on first request: robustness
    # curves, filter reports, the cortex report.
    return SharedResults(_queues()[COMPUTE])


def computed_once(what: str, model_sha256: str, compute: Callable, message: str):
    """A heavy per-model result (``compute(progress)``), computed once per server however many
    sessions ask at the same time: they all wait for the same job, each with a progress bar."""
    results, key = shared_results(), (what, model_sha256)
    if key in results:
        return results.get(key)
    job = results.request(key, compute, message)
    try:
        return follow_job(job, message, COMPUTE)
    except Exception as exc:  # a bug, but shown as a message, not a traceback
        st.error(f"This could not be computed ({type(exc).__name__}: {exc}). Reload to try again.")
        st.stop()
