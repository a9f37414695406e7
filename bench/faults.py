"""A class drawing while things go wrong: faults injected into a running class, and what was lost.

Protocol students (``bench/protocol_student.py``) draw continuously through nginx to the
replicas. Meanwhile, at set times, ``faults`` run: a trainer killed while it saves, a save onto a
full disk, a replica killed with SIGKILL. A student whose replica dies sees its websocket close,
reconnects through nginx (which sends it to a live replica) and draws on. Reported: drawings,
answers missing on a live replica (must be none), drawings that were in flight on a replica when
it was killed, and the reconnections with their time.

Used by ``tests/test_faults_classroom.py``; ``python bench/faults.py`` runs a longer class.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.protocol_student import ProtocolStudent  # noqa: E402
from bench.strokes import digit_strokes, next_digit  # noqa: E402

ANSWER_TIMEOUT = 20.0
RECONNECT_TIMEOUT = 60.0
SETTLE_S = 10.0  # the class draws on at least this long after the last fault has run


class ClassEnd:
    """When the class stops: not before its deadline, and never while a fault is still running
    or has only just run. Faults run one after another, so on a slow machine a late fault may
    start after the deadline; the class must still be there for it to strike."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.faults_done = False

    def faults_finished(self) -> None:
        self.deadline = max(self.deadline, time.monotonic() + SETTLE_S)
        self.faults_done = True

    def over(self) -> bool:
        return self.faults_done and time.monotonic() >= self.deadline


@dataclass
class FaultReport:
    drawings: int = 0
    answered: int = 0
    missing_on_live: list[str] = field(default_factory=list)  # must stay empty
    lost_to_killed_replica: int = 0
    reconnects: list[float] = field(default_factory=list)  # seconds to reconnect
    faults: list[str] = field(default_factory=list)  # what ran, and what it said


async def _connect(url: str) -> ProtocolStudent:
    student = ProtocolStudent(url)
    await student.connect()
    return student


def _closed(student: ProtocolStudent) -> bool:
    return student._reader is None or student._reader.done()


async def _answer(student: ProtocolStudent, strokes: int, sent: float) -> float | None:
    """The answer's delay, or None when none came or the connection closed first."""
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while time.monotonic() < deadline:
        took = await student.answer(strokes, sent, 0.25)
        if took is not None:
            return took
        if _closed(student):
            return None
    return None


async def _reconnect(url: str, student: ProtocolStudent, report: FaultReport) -> ProtocolStudent:
    """A new session through nginx, which sends it to a live replica."""
    start = time.monotonic()
    while True:
        try:
            await student.close()
            student = await _connect(url)
            report.reconnects.append(time.monotonic() - start)
            return student
        except Exception:
            if time.monotonic() - start > RECONNECT_TIMEOUT:
                raise
            await asyncio.sleep(0.5)


async def _student(url: str, index: int, end: ClassEnd, report: FaultReport) -> None:
    rng = np.random.default_rng(500 + index)
    student = await _connect(url)
    previous = None
    try:
        while not end.over():
            if _closed(student):  # its replica went away between drawings
                student, previous = await _reconnect(url, student, report), None
            digit, style = next_digit(rng, previous)
            drawing = digit_strokes(digit, rng, style=style)
            previous = len(drawing.strokes)
            sent = time.perf_counter()
            report.drawings += 1
            try:
                for i in range(len(drawing.strokes)):
                    await student.draw(drawing.strokes[: i + 1])
                    await asyncio.sleep(0.05)
                took = await _answer(student, previous, sent)
            except Exception:  # the websocket closed under us
                took = None
            if took is not None:
                report.answered += 1
            elif _closed(student):
                report.lost_to_killed_replica += 1
                continue  # reconnects at the top
            else:
                report.missing_on_live.append(f"student {index}: a {digit} in {previous} strokes")
            await asyncio.sleep(rng.uniform(0.3, 0.8))
            try:
                await student.clear()
            except Exception:
                continue  # closed: reconnects at the top
            await asyncio.sleep(rng.uniform(0.2, 0.5))
    finally:
        await student.close()


async def _faults(
    schedule: list[tuple[float, str, Callable[[], str]]], report: FaultReport, end: ClassEnd
) -> None:
    start = time.monotonic()
    try:
        for at, name, fault in schedule:
            await asyncio.sleep(max(0.0, start + at - time.monotonic()))
            began = time.monotonic() - start
            outcome = await asyncio.to_thread(fault)
            # when it ran is part of what happened: a fault late on a slow machine shows here
            report.faults.append(f"{name}: {outcome} (at {began:.0f} s)")
    finally:
        end.faults_finished()


async def _run(
    url: str, students: int, seconds: float, schedule: list[tuple[float, str, Callable[[], str]]]
) -> FaultReport:
    report = FaultReport()
    end = ClassEnd(time.monotonic() + seconds)
    await asyncio.gather(
        _faults(schedule, report, end),
        *[_student(url, i, end, report) for i in range(students)],
    )
    return report


def class_under_faults(
    url: str, students: int, seconds: float, schedule: list[tuple[float, str, Callable[[], str]]]
) -> FaultReport:
    """``students`` protocol students draw at ``url`` for ``seconds``, and on until
    ``SETTLE_S`` after the last fault; each ``(at, name, fault)`` of ``schedule`` runs at the
    earliest ``at`` seconds in, after the one before (blocking calls, in a thread); returns what
    happened."""
    return asyncio.run(_run(url, students, seconds, schedule))
