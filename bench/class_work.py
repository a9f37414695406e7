"""A class whose work is saved: joined protocol students draw and label through nginx while a
replica restarts and the teacher pushes digits; afterwards every answered drawing must be in the
class's database, under its student, with the label given.

Each student joins first (``ClassWork.join``, as the sidebar does) and opens the Draw page with its
resume code in the address. It draws digits stroke by stroke (``bench/strokes.py``), waits for the
answer, taps the label (the digit it meant) and clears. Its page's push follower is emulated as
the browser runs it (``ui/components/push/push.js``): the static push file twice a second, and the follower's
state (sent with every later request too) when the id is newer. The push's latency is from the teacher's push (written to the
database) to the pushed digit's answer arriving on the student's websocket (or, for a student
whose stroke came with the push, the notice that a digit was pushed while they were drawing).

Checked afterwards, from the database: every drawing whose answer came is there with exactly the
28 x 28 image the server read (computed again here from the same canvas PNG), under its
student; every label whose student's connection stayed up is there.

Phases for the cost of saving (``--cost-seconds``), each with the same pacing (a student who does
not tap a label waits as long as one who does): the class unjoined; joined, not labelling; joined
and labelling. Server CPU per drawing (from /proc) in each: saving costs the second minus the
first, a label tap the third minus the second.

    .venv/bin/python bench/class_work.py --students 30 --minutes 10 --database sqlite
    .venv/bin/python bench/class_work.py --students 30 --minutes 10 --database postgres
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.protocol_student import ProtocolStudent, canvas_png  # noqa: E402
from bench.saved import save  # noqa: E402
from bench.strokes import digit_strokes, next_digit  # noqa: E402

ANSWER_TIMEOUT = 20.0


@dataclass
class Drawn:
    student: int
    digit: int
    strokes: list
    answered: bool
    labelled: bool  # the label was sent and the connection stayed up for a second after
    tapped_at: float | None = None  # time.time() when the label was sent
    answered_at: float | None = None  # time.time() when the answer arrived


@dataclass
class ClassRun:
    students: int
    seconds: float
    drawings: list[Drawn] = field(default_factory=list)
    reconnects: list[float] = field(default_factory=list)
    push_latencies: list[float] = field(default_factory=list)
    pushes: int = 0
    push_times: list[float] = field(default_factory=list)  # perf_counter, when written
    notices: list[list[float]] = field(default_factory=list)  # per student: push arrivals
    answers: set[float] = field(default_factory=set)  # those that were the pushed digit's answer
    events: list[str] = field(default_factory=list)
    by_student: dict[int, dict] = field(default_factory=dict)  # push arrivals and reconnects


def _closed(student: ProtocolStudent) -> bool:
    return student._reader is None or student._reader.done()


async def _connect(url: str, query: str) -> ProtocolStudent:
    student = ProtocolStudent(url, query)
    await student.connect()
    return student


async def _reconnect(url: str, query: str, old: ProtocolStudent, run: ClassRun):
    start = time.monotonic()
    while True:
        try:
            await old.close()
            student = await _connect(url, query)
            run.reconnects.append(time.monotonic() - start)
            return student
        except Exception:
            if time.monotonic() - start > 90:
                raise
            await asyncio.sleep(0.5)


# as the pages behind nginx (deploy/classroom.py), which serves the push file itself
ASK_EVERY_S = 0.25


@dataclass(frozen=True)
class Pace:
    """How long a student pauses (a range in seconds, drawn uniformly): reading an answer before
    the tap, and between Clear and the next digit."""

    reading: tuple[float, float]
    between: tuple[float, float]


# The class benchmarks' stress: a drawing about every 3 s per student, far above a class's pace.
STRESS = Pace(reading=(0.3, 0.8), between=(0.2, 0.5))


async def _latest_push_id(url: str, class_id: str) -> int | None:
    """GET the static push file (asyncio, not a thread each: 30 pages ask twice a second)."""
    host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
        try:
            writer.write(
                f"GET /app/static/push-{class_id}.json HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Cache-Control: no-store\r\nConnection: close\r\n\r\n".encode()
            )
            response = await asyncio.wait_for(reader.read(), 5)
        finally:
            writer.close()
        head, _, body = response.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            return None
        return int(json.loads(body)["id"])
    except (TimeoutError, OSError, ValueError, KeyError):
        return None


class _Box:
    def __init__(self, student: ProtocolStudent):
        self.student = student
        self.follower_errors: list[str] = []  # what the push follower survived


async def _follower(url: str, class_id: str, box: _Box, deadline: float, rng) -> None:
    """The page's push follower: ask twice a second; tell the server when the id changed."""
    await asyncio.sleep(rng.uniform(0, ASK_EVERY_S))  # pages opened at different moments
    seen = await _latest_push_id(url, class_id)
    while time.monotonic() < deadline:
        # As the page's: no failed ask ends it. (A follower task that died silently once left
        # a student seeing no push for the rest of a lesson; now what it met is recorded.)
        try:
            latest = await _latest_push_id(url, class_id)
            student = box.student
            if latest is not None and seen is not None and latest != seen and student.connected:
                seen = latest
                with contextlib.suppress(Exception):  # closed: the next page asks again
                    await student.follow_push(latest)
            elif seen is None:
                seen = latest
        except Exception as exc:
            box.follower_errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
        await asyncio.sleep(ASK_EVERY_S)


async def _student(
    url: str,
    index: int,
    token: str | None,
    class_id: str,
    seconds: float,
    run: ClassRun,
    ready: list,
    labels: bool = True,
    pace: Pace = STRESS,
) -> None:
    rng = np.random.default_rng(900 + index)
    query = f"student={token}" if token else ""
    box = _Box(await _connect(url, query))
    ready.append(index)
    deadline = await _everyone_in(ready, run.students) + seconds  # the lesson starts together
    follower = asyncio.create_task(_follower(url, class_id, box, deadline, rng))
    notices: list[float] = []
    previous = None
    try:
        while time.monotonic() < deadline:
            if _closed(box.student):
                notices.extend(box.student.pushes.values())
                run.answers.update(box.student.pushed_answers)
                box.student, previous = await _reconnect(url, query, box.student, run), None
                mine = run.by_student.setdefault(index, {"arrivals": [], "reconnected": []})
                mine["reconnected"].append(time.perf_counter())
            student = box.student
            digit, style = next_digit(rng, previous)
            drawing = digit_strokes(digit, rng, style=style)
            previous = len(drawing.strokes)
            sent = time.perf_counter()
            took = None
            try:
                for i in range(len(drawing.strokes)):
                    await student.draw(drawing.strokes[: i + 1])
                    await asyncio.sleep(0.05)
                end = time.monotonic() + ANSWER_TIMEOUT
                while took is None and time.monotonic() < end and not _closed(student):
                    took = await student.answer(previous, sent, 0.25)
            except Exception:
                took = None
            labelled, tapped_at = False, None
            answered_at = time.time() if took is not None else None
            if took is not None:
                shown = student.shown_pushes
                await asyncio.sleep(rng.uniform(*pace.reading))  # reading the answer, one tap
                # a push that arrived meanwhile replaced the answer and its pills: no tap
                tap = token and labels and student.shown_pushes == shown
                try:
                    tapped_at = time.time()
                    if tap and await student.label(str(digit)):
                        await asyncio.sleep(1.0)
                        labelled = not _closed(student)
                    else:
                        await asyncio.sleep(1.0)  # the same pace without the tap
                except Exception:
                    pass
            run.drawings.append(
                Drawn(
                    index,
                    digit,
                    drawing.strokes,
                    took is not None,
                    labelled,
                    tapped_at,
                    answered_at,
                )
            )
            await asyncio.sleep(rng.uniform(0.2, 0.6))
            try:
                await student.clear()
            except Exception:
                continue
            await asyncio.sleep(rng.uniform(*pace.between))
    finally:
        follower.cancel()
        if box.follower_errors:
            run.events.append(
                f"protocol student {index}'s push follower met {len(box.follower_errors)} "
                f"errors, the first: {box.follower_errors[0]}"
            )
        notices.extend(box.student.pushes.values())
        run.answers.update(box.student.pushed_answers)
        run.notices.append(sorted(notices))
        run.by_student.setdefault(index, {"arrivals": [], "reconnected": []})["arrivals"] = sorted(
            notices
        )
        await box.student.close()


async def _everyone_in(ready: list, students: int) -> float:
    """When every student's page is open: the teacher's pushes and the restart count from then."""
    while len(ready) < students:
        await asyncio.sleep(0.1)
    return time.monotonic()


async def _teacher(work, pushes_at, ready, students, run: ClassRun) -> None:
    start = await _everyone_in(ready, students)
    image = np.zeros((28, 28), np.uint8)
    for i, at in enumerate(pushes_at):
        await asyncio.sleep(max(0.0, start + at - time.monotonic()))
        image[:] = 0
        image[4:24, 12 + i % 4 : 16 + i % 4] = 255
        await asyncio.to_thread(work.push, image.copy(), 1, f"benchmark push {i + 1}")
        run.push_times.append(time.perf_counter())
        run.pushes += 1


async def _restarts(server, restart_at, ready, students, run: ClassRun) -> None:
    start = await _everyone_in(ready, students)
    for i, at in enumerate(restart_at):
        await asyncio.sleep(max(0.0, start + at - time.monotonic()))
        t = time.monotonic()
        await asyncio.to_thread(server.restart, i % len(server.servers))
        run.events.append(
            f"replica {i % len(server.servers)} restarted in {time.monotonic() - t:.1f} s"
        )


async def _class(
    server, work, tokens, seconds, pushes_at, restart_at, labels: bool = True
) -> ClassRun:
    run = ClassRun(len(tokens), seconds)
    ready: list[int] = []
    students = [
        _student(server.url, i, token, work.class_id, seconds, run, ready, labels)
        for i, token in enumerate(tokens)
    ]
    n = len(tokens)
    results = await asyncio.gather(
        _teacher(work, pushes_at, ready, n, run),
        _restarts(server, restart_at, ready, n, run),
        *students,
        return_exceptions=True,
    )
    for outcome in results:
        if isinstance(outcome, BaseException):
            run.events.append(f"error: {outcome!r}")
    return run


def saved_check(
    work, tokens: list[str], run: ClassRun, excused: tuple[float, float] | None = None
) -> dict:
    """Every answered drawing in the database with the image the server read, and its label;
    ``excused``: a time window (a full disk) whose answers could not be saved."""
    from mnist_viz.inputs.digit import DRAWING, from_image

    students = [work.resume(token) for token in tokens]
    kept = {}
    for i, student in enumerate(students):
        rows = work.student_drawings(student.id, limit=100_000)
        kept[i] = {}
        for row in rows:
            kept[i].setdefault(row.image.tobytes(), []).append(row.label)
    missing, label_missing, answered, labelled = [], [], 0, 0
    unsaved_excused = 0
    for d in run.drawings:
        if not d.answered:
            continue
        if excused and d.answered_at is not None and excused[0] <= d.answered_at <= excused[1]:
            unsaved_excused += 1
            continue
        answered += 1
        image = from_image(canvas_png(d.strokes), DRAWING, "").image.tobytes()
        labels = kept[d.student].get(image)
        if labels is None:
            missing.append(f"student {d.student}: a {d.digit} in {len(d.strokes)} strokes")
            continue
        if d.labelled and excused and d.tapped_at and excused[0] <= d.tapped_at <= excused[1]:
            unsaved_excused += 1  # tapped while the disk was full: the page said so
            continue
        if d.labelled:
            labelled += 1
            if d.digit not in labels:
                label_missing.append(
                    f"student {d.student}: a {d.digit} in {len(d.strokes)} strokes, tapped at "
                    f"{d.tapped_at:.2f}, kept {labels}"
                )
    return {
        "answered": answered,
        "missing": missing,
        "labelled": labelled,
        "labels_missing": label_missing,
        "rows": sum(len(v) for v in kept.values()),
        "excused_in_fault_window": unsaved_excused,
    }


def _summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {
        "n": len(values),
        "median_s": round(statistics.median(ordered), 3),
        "p95_s": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
        "max_s": round(ordered[-1], 3),
    }


def measure(
    url_env: dict,
    database_url: str,
    students: int,
    seconds: float,
    restart_at: list[float],
    pushes_at: list[float],
    cost_seconds: float = 0.0,
) -> dict:
    """Run the class (and, with ``cost_seconds``, the cost phases); the report."""
    from deploy.classroom import Classroom
    from mnist_viz.classroom.classwork import ClassWork
    from mnist_viz.classroom.store import Store

    env = url_env | {"MNIST_VIZ_DATABASE_URL": database_url}
    report: dict = {"students": students, "seconds": seconds}
    with Classroom(replicas=2, env=env, cores="0") as server:
        store = Store(database_url)
        store.migrate()
        work = ClassWork(store)
        work.ensure()
        tokens = [work.join(f"student{i:02d}")[1] for i in range(students)]
        if cost_seconds:
            phases = (
                ("unjoined", [None] * students, False),
                ("joined", tokens, False),
                ("joined_labelling", tokens, True),
            )
            for phase, phase_tokens, labels in phases:
                cpu = server.cpu_seconds()
                run = asyncio.run(
                    _class(server, work, phase_tokens, cost_seconds, [], [], labels=labels)
                )
                answered = sum(d.answered for d in run.drawings)
                report[f"cpu_ms_per_drawing_{phase}"] = round(
                    1000 * (server.cpu_seconds() - cpu) / max(1, answered), 1
                )
                report[f"drawings_{phase}"] = answered
            cost = {k: report[f"cpu_ms_per_drawing_{k}"] for k, _, _ in phases}
            report["save_cpu_ms_per_drawing"] = round(cost["joined"] - cost["unjoined"], 1)
            report["label_tap_cpu_ms_per_drawing"] = round(
                cost["joined_labelling"] - cost["joined"], 1
            )
        before = len(work.all_drawings())
        run = asyncio.run(_class(server, work, tokens, seconds, pushes_at, restart_at))
        # a second after the last drawing, everything sent has been handled
        time.sleep(2)
        check = saved_check(work, tokens, run)
        report |= {
            "drawings": len(run.drawings),
            "answered": check["answered"],
            "answered_missing_from_database": check["missing"],
            "labelled": check["labelled"],
            "labels_missing": check["labels_missing"],
            "rows_before": before,
            "rows_after": check["rows"],
            "reconnects": len(run.reconnects),
            "reconnect_max_s": round(max(run.reconnects), 2) if run.reconnects else None,
            "pushes": run.pushes,
            "events": run.events,
        }
        latencies, as_answers = push_latencies(run.push_times, run.notices, run.answers)
        report["push_reached_per_push"] = [
            sum(
                any(
                    at <= t < (run.push_times[i + 1] if i + 1 < len(run.push_times) else 1e18)
                    for t in arrivals
                )
                for arrivals in run.notices
            )
            for i, at in enumerate(run.push_times)
        ]
        report["push"] = _summary(latencies) | {
            "reached": f"{len(latencies)} of {run.pushes * students} (push x student)",
            "within_2s": sum(t <= 2.0 for t in latencies),
            "as_the_pushed_digits_answer": as_answers,
            "as_the_notice_that_it_came_while_drawing": len(latencies) - as_answers,
        }
        store.close()
    return report


def push_latencies(
    report_pushes: list[float], arrivals_by_student: list[list[float]], answers: set[float]
) -> tuple[list[float], int]:
    """For each push and student, the delay to the first arrival after it (before the next);
    and how many of those first arrivals were the pushed digit's answer (not the notice)."""
    out, as_answers = [], 0
    for i, at in enumerate(report_pushes):
        until = report_pushes[i + 1] if i + 1 < len(report_pushes) else float("inf")
        for arrivals in arrivals_by_student:
            after = [t for t in arrivals if at <= t < until]
            if after:
                out.append(after[0] - at)
                as_answers += after[0] in answers
    return out, as_answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cost-seconds", type=float, default=120)
    parser.add_argument("--pushes", type=int, default=8)
    args = parser.parse_args(argv)
    seconds = 60 * args.minutes
    models = os.environ.get("MNIST_VIZ_MODELS_DIR", str(ROOT / "models"))
    env = {"MNIST_VIZ_MODELS_DIR": models}
    with tempfile.TemporaryDirectory(prefix="mnist-viz-class-") as folder:
        env["MNIST_VIZ_DATA_DIR"] = folder
        if args.database == "postgres":
            from deploy.postgres import LocalPostgres

            os.chmod(folder, 0o711)  # the postgres user passes through to its cluster

            server = LocalPostgres(Path(folder) / "postgres").start()
            url = server.url
        else:
            server, url = None, f"sqlite:///{folder}/class.sqlite3"
        try:
            report = measure(
                env,
                url,
                args.students,
                seconds,
                restart_at=[seconds / 2],
                pushes_at=[seconds * (i + 0.5) / args.pushes for i in range(args.pushes)],
                cost_seconds=args.cost_seconds,
            )
        finally:
            if server is not None:
                server.stop()
    report |= {
        "database": args.database,
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
        "note": "protocol students (bench/protocol_student.py) through nginx to 2 replicas "
        "pinned to core 0; the clients on the other core",
    }
    print(json.dumps(report, indent=1))
    save(f"class_work_{args.database}", report)  # marked with the commit it ran on
    return 0


if __name__ == "__main__":
    sys.exit(main())
