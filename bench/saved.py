"""Benchmarks write what they measured to ``bench/results/<name>.json``, marked with the commit
they ran on; ``tests/test_readme_figures.py`` checks the README's tables against those files, so
a figure cannot be pasted by hand and drift from what was measured."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def commit() -> str:
    """This checkout's short commit, with "+changes" when its code differs from it."""
    root = RESULTS.parent.parent
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=root
    ).stdout.strip()
    # Code that differs from the commit marks the result; other benches' results and the
    # README do not (a bench run writes to bench/results/, and the README is updated after).
    changed = subprocess.run(
        [
            "git",
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ".",
            ":(exclude)bench/results",
            ":(exclude)*.md",
        ],
        capture_output=True,
        text=True,
        cwd=root,
    ).stdout.strip()
    return head + ("+changes" if changed else "")


def save(name: str, result: dict) -> Path:
    """Write ``result`` (and the commit) as ``bench/results/<name>.json``; its path."""
    path = save_to(RESULTS / f"{name}.json", result)
    assert path is not None
    return path


def save_to(out: str | Path, result: dict) -> Path | None:
    """Write ``result`` (and the commit) to ``out``, a bench's ``--out`` ("-": nowhere); the
    path written, or None."""
    if str(out) == "-":
        return None
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"commit": commit(), **result}, indent=1) + "\n", encoding="utf-8")
    shown = (
        path.relative_to(RESULTS.parent.parent)
        if path.is_relative_to(RESULTS.parent.parent)
        else path
    )
    print(f"saved {shown}")
    return path
