import threading

import pytest

from mnist_viz.jobs import JobRegistry
from mnist_viz.training import TrainingProgress


def test_one_job_per_key_reports_progress_and_result():
    release = threading.Event()
    calls = []

    def fn(report, waiting):
        calls.append(1)
        report(TrainingProgress(1, 2, 3, 4, 0.5, 0.9))
        release.wait(5)
        return "model"

    registry = JobRegistry()
    first = registry.get_or_start("models/mnist_cnn", fn)
    second = registry.get_or_start("models/mnist_cnn", fn)
    assert first is second and registry.running("models/mnist_cnn") is first
    release.set()
    assert first.wait(5) and first.result == "model" and first.error is None
    assert first.progress.batch == 3 and calls == [1]
    assert registry.running("models/mnist_cnn") is None
    assert registry.get_or_start("models/mnist_cnn", fn) is not first  # a finished job is replaced


def test_errors_and_waiting_are_handed_to_the_poller():
    def fn(report, waiting):
        waiting()
        raise ValueError("no data")

    job = JobRegistry().get_or_start("k", fn)
    assert job.wait(5)
    assert job.waiting and isinstance(job.error, ValueError)
    with pytest.raises(ValueError):
        raise job.error
