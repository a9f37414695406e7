"""What a teacher's push costs the server: protocol students (named as what they are: clients
that send what a browser sends, but render nothing) who have each drawn one digit and then only
follow pushes, through nginx to two replicas pinned to core 0; the teacher pushes a test digit
every few seconds. Per push: the server's CPU (from /proc) and each student's delay from the push
being written to the pushed digit's answer on its websocket.

    .venv/bin/python bench/push_cost.py --students 30 --pushes 12 --save
    .venv/bin/python bench/push_cost.py --pushes 6 --profile push.txt  # py-spy, GIL holders
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.class_work import _Box, _connect, _follower  # noqa: E402
from bench.strokes import digit_strokes  # noqa: E402


async def _students(url, class_id, tokens, boxes, deadline):
    rng = np.random.default_rng(1)
    for token in tokens:
        box = _Box(await _connect(url, f"student={token}"))
        drawing = digit_strokes(3, rng)
        await box.student.draw(drawing.strokes)
        await box.student.answer(len(drawing.strokes), time.perf_counter() - 1, 20)
        boxes.append(box)
    return [asyncio.create_task(_follower(url, class_id, b, deadline, rng)) for b in boxes]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--pushes", type=int, default=12)
    parser.add_argument("--every", type=float, default=5.0)
    parser.add_argument("--save", action="store_true", help="bench/results/push_cost.json")
    parser.add_argument(
        "--profile", help="py-spy a replica during the pushes: an SVG, or collapsed stacks (.txt)"
    )
    args = parser.parse_args(argv)
    from deploy.classroom import Classroom
    from mnist_viz.classroom.classwork import ClassWork
    from mnist_viz.classroom.store import Store
    from mnist_viz.core.data import load_idx_folder

    mnist = os.environ.get("MNIST_DATA", str(ROOT.parent / "shared" / "data" / "mnist"))
    data = load_idx_folder(mnist)
    with tempfile.TemporaryDirectory(prefix="mnist-viz-push-") as folder:
        url_db = f"sqlite:///{folder}/class.sqlite3"
        env = {
            "MNIST_VIZ_MODELS_DIR": str(ROOT / "models"),
            "MNIST_VIZ_DATA_DIR": folder,
            "MNIST_VIZ_DATABASE_URL": url_db,
            "MNIST_DATA": mnist,
        }
        with Classroom(replicas=2, env=env, cores="0") as server:
            store = Store(url_db)
            store.migrate()
            work = ClassWork(store)
            work.ensure()
            tokens = [work.join(f"student{i:02d}")[1] for i in range(args.students)]

            async def lesson():
                boxes: list = []
                deadline = time.monotonic() + 3600
                followers = await _students(server.url, work.class_id, tokens, boxes, deadline)
                await asyncio.sleep(3)
                spy = None
                if args.profile:
                    spy = await asyncio.create_subprocess_exec(
                        str(ROOT / ".venv/bin/py-spy"),
                        "record",
                        "-o",
                        args.profile,
                        "--pid",
                        str(server.servers[0].pid),
                        "--duration",
                        str(int(args.pushes * args.every)),
                        "--rate",
                        "200",
                        "--gil",
                        *(["--format", "raw"] if args.profile.endswith(".txt") else []),
                    )
                rows = []
                for i in range(args.pushes):
                    cpu = server.cpu_seconds()
                    before = [len(b.student.pushed_answers) for b in boxes]
                    await asyncio.to_thread(
                        work.push, data.x_test[i].copy(), int(data.y_test[i]), f"push {i}"
                    )
                    at = time.perf_counter()
                    await asyncio.sleep(args.every)
                    delays = [
                        b.student.pushed_answers[n] - at
                        for b, n in zip(boxes, before, strict=True)
                        if len(b.student.pushed_answers) > n
                    ]
                    rows.append(
                        {
                            "arrived": len(delays),
                            "cpu_ms": round(1000 * (server.cpu_seconds() - cpu), 1),
                            "p95_s": round(float(np.percentile(delays, 95)), 3) if delays else None,
                            "max_s": round(max(delays), 3) if delays else None,
                        }
                    )
                    print(rows[-1], flush=True)
                for f in followers:
                    f.cancel()
                if spy is not None:
                    await spy.wait()
                return rows

            rows = asyncio.run(lesson())
    done = rows[2:]  # the first pushes warm the caches
    result = {
        "students": args.students,
        "pushes": args.pushes,
        "note": "protocol students that only follow pushes (no drawing load), through nginx "
        "to 2 replicas pinned to core 0; SQLite",
        "arrived": f"{sum(r['arrived'] for r in rows)} of {args.students * args.pushes}",
        "cpu_ms_per_push_per_student": round(
            statistics.median(r["cpu_ms"] for r in done) / args.students, 2
        ),
        "p95_s_median_of_pushes": statistics.median(r["p95_s"] for r in done if r["p95_s"]),
        "max_s": max(r["max_s"] for r in done if r["max_s"]),
        "per_push": rows,
    }
    print(json.dumps(result, indent=1))
    if args.save:
        from bench.saved import save

        save("push_cost", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
