"""What one answer on the Draw page costs the student's browser: one real Chromium page (on the
client core) picks test digits, each answer a rerun of the page's answer, against one server on
the other core. Per answer: Chromium's CPU (every Chromium process, from /proc, its idle cost
removed), the renderer main thread's task and script time (Chromium's own Performance metrics),
and the server's CPU (from /proc). A push costs each page one such answer.

A rendering page is the client cost that a class of Chromium students shares in
``bench/lesson.py``, where six of them and the protocol students share one core.

    .venv/bin/python bench/answer_render.py --answers 40 --save
    # the same at an older commit, from a checkout of it (git worktree), for a before and after:
    .venv/bin/python bench/answer_render.py --save --name answer_render_before
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lesson import client_ticks  # noqa: E402
from bench.saved import save  # noqa: E402
from deploy.browser import launch, version  # noqa: E402
from deploy.classroom import Classroom  # noqa: E402

PAUSE_S = 2.5  # between picks: each answer is drawn and the page idle before the next
IDLE_S = 10.0
ROUNDS = 2


def chromium_seconds() -> float:
    seen: dict[int, tuple[str, int]] = {}
    client_ticks(seen)
    ticks = sum(t for who, t in seen.values() if who == "chromium")
    return ticks / os.sysconf("SC_CLK_TCK")


async def _metrics(cdp) -> dict[str, float]:
    return {m["name"]: m["value"] for m in (await cdp.send("Performance.getMetrics"))["metrics"]}


async def measure(url: str, server: Classroom, answers: int) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await launch(p)
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        await page.goto(url, timeout=180_000)
        tab = page.get_by_role("tab", name="Pick a test digit")
        await tab.click(timeout=180_000)
        button = page.get_by_role("button", name="Random test digit")
        for _ in range(3):  # warm: caches, the first layout of every element
            await button.click()
            await asyncio.sleep(PAUSE_S)
        cdp = await page.context.new_cdp_session(page)
        await cdp.send("Performance.enable")
        before = chromium_seconds()
        await asyncio.sleep(IDLE_S)
        idle = (chromium_seconds() - before) / IDLE_S  # cores, with nothing happening
        rounds = []
        for _ in range(ROUNDS):
            m0, c0, s0, t0 = (
                await _metrics(cdp),
                chromium_seconds(),
                server.cpu_seconds(),
                time.time(),
            )
            for _ in range(answers // ROUNDS):
                await button.click()
                await asyncio.sleep(PAUSE_S)
            m1, c1, s1 = await _metrics(cdp), chromium_seconds(), server.cpu_seconds()
            n, wall = answers // ROUNDS, time.time() - t0
            rounds.append(
                {
                    "chromium_ms": 1000 * ((c1 - c0) - idle * wall) / n,
                    "renderer_task_ms": 1000 * (m1["TaskDuration"] - m0["TaskDuration"]) / n,
                    "renderer_script_ms": 1000 * (m1["ScriptDuration"] - m0["ScriptDuration"]) / n,
                    "server_ms": 1000 * (s1 - s0) / n,
                }
            )
        nodes = (await _metrics(cdp))["Nodes"]
        await browser.close()
    out = {
        key: round(statistics.mean(r[key] for r in rounds), 1)
        for key in ("chromium_ms", "renderer_task_ms", "renderer_script_ms", "server_ms")
    }
    spread = [round(r["chromium_ms"], 1) for r in rounds]
    return out | {
        "chromium_ms_per_round": spread,
        "idle_chromium_cores": round(idle, 4),
        "dom_nodes": int(nodes),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=40)
    parser.add_argument("--server-cores", default="0")
    parser.add_argument("--client-cores", default="1")
    parser.add_argument("--save", action="store_true")
    parser.add_argument("--name", default="answer_render", help="bench/results/<name>.json")
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {int(c) for c in args.client_cores.split(",")})
    env = {"MNIST_DATA": os.environ.get("MNIST_DATA", "")} if os.environ.get("MNIST_DATA") else {}
    with Classroom(replicas=0, cores=args.server_cores, env=env) as server:
        result = asyncio.run(measure(server.url, server, args.answers))
    result = {"answers": args.answers, "chromium_version": version(), **result}
    print(result)
    if args.save:
        save(args.name, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
