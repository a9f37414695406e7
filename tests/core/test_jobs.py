import threading

from mnist_viz.core.jobs import DONE, FAILED, QUEUED, RUNNING, JobQueue
from mnist_viz.core.training import TrainingProgress


def blocking_job(started: threading.Event, release: threading.Event, result: str, log: list):
    def fn(report, waiting):
        log.append(("start", result))
        started.set()
        report(TrainingProgress(1, 2, 3, 4, 0.5, 0.9))
        assert release.wait(5)
        log.append(("end", result))
        return result

    return fn


def test_one_job_per_key_reports_progress_and_result():
    started, release, log = threading.Event(), threading.Event(), []
    queue = JobQueue("test")
    first = queue.submit("models/mnist_cnn", blocking_job(started, release, "model", log))
    second = queue.submit("models/mnist_cnn", blocking_job(started, release, "other", log))
    assert first is second and queue.get("models/mnist_cnn") is first
    assert started.wait(5) and first.status == RUNNING and first.progress.batch == 3
    release.set()
    assert first.wait(5) and first.result == "model" and first.error is None
    assert first.status == DONE and log == [("start", "model"), ("end", "model")]
    assert queue.get("models/mnist_cnn") is None
    # a finished job is not reused: asking again starts a new one
    again = queue.submit("models/mnist_cnn", lambda report, waiting: "fresh")
    assert again is not first and again.wait(5) and again.result == "fresh"


def test_jobs_run_one_at_a_time_in_order_and_know_their_place():
    a_started, a_release, log = threading.Event(), threading.Event(), []
    b_started, b_release = threading.Event(), threading.Event()
    queue = JobQueue("test")
    a = queue.submit("a", blocking_job(a_started, a_release, "a", log))
    assert a_started.wait(5)
    b = queue.submit("b", blocking_job(b_started, b_release, "b", log))
    c = queue.submit("c", lambda report, waiting: log.append(("start", "c")) or "c")
    assert (queue.position(a), queue.position(b), queue.position(c)) == (0, 1, 2)
    assert b.status == QUEUED and queue.running is a
    assert not b_started.wait(0.3)  # b waits while a runs
    a_release.set()
    assert b_started.wait(5) and queue.position(c) == 1
    b_release.set()
    assert c.wait(5)
    assert log == [("start", "a"), ("end", "a"), ("start", "b"), ("end", "b"), ("start", "c")]


def test_errors_and_waiting_are_handed_to_the_poller():
    def fn(report, waiting):
        waiting()
        raise ValueError("no data")

    queue = JobQueue("test")
    job = queue.submit("k", fn)
    assert job.wait(5)
    assert job.waiting and job.status == FAILED
    assert isinstance(job.error, ValueError) and str(job.error) == "no data"
    # a failed job does not block the queue
    assert queue.submit("k2", lambda report, waiting: 42).wait(5)


def test_a_result_many_sessions_ask_for_at_once_is_computed_once():
    from mnist_viz.core.jobs import SharedResults

    results = SharedResults(JobQueue("compute"))
    calls, gate = [], threading.Event()

    def compute(report):
        calls.append(1)
        report(0.5)
        assert gate.wait(5)
        return {"filters": 32}

    jobs, barrier = [], threading.Barrier(8)

    def session():
        barrier.wait()
        jobs.append(results.request(("filters", "sha"), compute, "filters"))

    threads = [threading.Thread(target=session) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(jobs) == 8 and all(j is jobs[0] for j in jobs)
    gate.set()
    assert jobs[0].wait(5) and jobs[0].result == {"filters": 32}
    assert calls == [1]
    assert ("filters", "sha") in results and results.get(("filters", "sha")) == {"filters": 32}
    assert results.get(("cortex", "sha")) is None


def test_waiting_for_idle_queues_returns_once_every_job_has_finished():
    from mnist_viz.core.jobs import wait_for_every_queue

    started, release, log = threading.Event(), threading.Event(), []
    queue = JobQueue("test")
    assert queue.wait_idle(0)  # a new queue is idle
    queue.submit("a", blocking_job(started, release, "a", log))
    assert started.wait(5)
    assert not queue.wait_idle(0.2) and not wait_for_every_queue(0.2)
    # a thread waiting for idleness must not take the wake-up meant for the worker
    idle = []
    waiter = threading.Thread(target=lambda: idle.append(queue.wait_idle(10)))
    waiter.start()
    second = queue.submit("b", lambda report, waiting: "b")
    release.set()
    waiter.join(10)
    assert idle == [True] and second.done and second.result == "b"
    assert wait_for_every_queue(5)


def test_a_job_keeps_every_progress_report_in_order():
    def fn(report, waiting):
        for i in range(5):
            report(i / 4)
        return "done"

    job = JobQueue("test").submit("k", fn)
    assert job.wait(5) and job.history == [0.0, 0.25, 0.5, 0.75, 1.0] and job.progress == 1.0


def test_shared_results_run_before_private_jobs_already_waiting():
    from mnist_viz.core.jobs import PRIVATE, SHARED

    started, release, log = threading.Event(), threading.Event(), []
    queue = JobQueue("test")
    busy = queue.submit("busy", blocking_job(started, release, "busy", log))
    assert started.wait(5)
    order = []
    private = queue.submit(
        "teach:a", lambda r, w: order.append("private"), priority=PRIVATE, owner="a"
    )
    shared = queue.submit("style", lambda r, w: order.append("shared"), priority=SHARED)
    assert queue.position(shared) == 1 and queue.position(private) == 2
    release.set()
    assert private.wait(5) and shared.wait(5) and busy.wait(5)
    assert order == ["shared", "private"]


def test_one_private_job_per_session_and_a_cap_on_all_of_them():
    import pytest

    from mnist_viz.core.jobs import PRIVATE, OwnerBusy, QueueFull

    started, release, log = threading.Event(), threading.Event(), []
    queue = JobQueue("test", max_private_waiting=2)
    queue.submit("busy", blocking_job(started, release, "busy", log))
    assert started.wait(5)
    queue.submit("teach:a", lambda r, w: "a", priority=PRIVATE, owner="a")
    with pytest.raises(OwnerBusy, match="still being worked on"):
        queue.submit("teach:a:again", lambda r, w: "a2", priority=PRIVATE, owner="a")
    queue.submit("teach:b", lambda r, w: "b", priority=PRIVATE, owner="b")
    with pytest.raises(QueueFull, match="the server is busy: 2 requests are waiting"):
        queue.submit("teach:c", lambda r, w: "c", priority=PRIVATE, owner="c")
    queue.submit("shared", lambda r, w: "s")  # shared work is never refused
    release.set()
    assert queue.wait_idle(5)
    assert queue.submit("teach:a", lambda r, w: "a", priority=PRIVATE, owner="a").wait(5)


def test_a_private_job_is_cancelled_when_its_session_has_gone():
    from mnist_viz.core.jobs import CANCELLED, PRIVATE, JobCancelled

    started, release, log = threading.Event(), threading.Event(), []
    queue = JobQueue("test")
    queue.submit("busy", blocking_job(started, release, "busy", log))
    assert started.wait(5)
    alive = {"a": True, "b": True}
    ran = []
    waiting = queue.submit(
        "teach:a", lambda r, w: ran.append("a"), PRIVATE, owner="a", owner_alive=lambda: alive["a"]
    )
    alive["a"] = False  # the tab closed while the job waited
    assert queue.cancel_abandoned() == 1
    assert waiting.done and waiting.status == CANCELLED and queue.get("teach:a") is None

    # a running job stops at its next progress report once its session has gone
    b_started = threading.Event()

    def long_teaching(report, wait):
        b_started.set()
        for _ in range(200):
            report(0.5)
            threading.Event().wait(0.01)
        ran.append("b finished")

    running = queue.submit(
        "teach:b", long_teaching, PRIVATE, owner="b", owner_alive=lambda: alive["b"]
    )
    release.set()
    assert b_started.wait(5)
    alive["b"] = False
    assert running.wait(5) and running.status == CANCELLED
    assert isinstance(running.error, JobCancelled) and ran == []

    # one whose session went before its turn is skipped when its turn comes
    alive["c"] = True
    blocker_started, blocker_release = threading.Event(), threading.Event()
    queue.submit("busy2", blocking_job(blocker_started, blocker_release, "busy2", log))
    assert blocker_started.wait(5)
    skipped = queue.submit(
        "teach:c", lambda r, w: ran.append("c"), PRIVATE, owner="c", owner_alive=lambda: alive["c"]
    )
    alive["c"] = False
    blocker_release.set()
    assert skipped.wait(5) and skipped.status == CANCELLED and ran == []
