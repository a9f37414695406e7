"""Every input must end in a digit or a clear ImageError, within 1 s and 200 MB: measured here.

Runs ``to_mnist`` on the corpus of ``tests/core/test_bad_inputs.py`` (every format and colour mode,
odd arrays, broken and hostile files, big images) plus N random mutations of every file format,
and prints the outcomes, any exception that is not ImageError, and the slowest and hungriest
inputs (peak resident memory above the starting point, reset before each input).

    .venv/bin/python bench/bad_inputs.py --mutations 1000
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from core.test_bad_inputs import (  # noqa: E402
    BROKEN,
    FILES,
    _arrays,
    _modes,
    big_sixteen_bit_png,
    encoded,
    mutate,
    peak_rss_mb,
    reset_peak,
    seven,
)

from mnist_viz.core.errors import BlankImageError, ImageError  # noqa: E402
from mnist_viz.core.preprocess import to_mnist  # noqa: E402

LIMIT_S, LIMIT_MB = 1.0, 200
RESULTS = Path(__file__).resolve().parent / "results" / "bad_inputs.json"


def corpus(mutations: int, seed: int):
    """(name, input) pairs: the fixed corpus, then the mutations."""
    yield from _modes().items()
    yield from ((k, f()) for k, f in FILES.items())
    yield from _arrays().items()
    yield from ((k, v) for k, (v, _) in BROKEN.items())
    yield "png-16bit-7000", big_sixteen_bit_png()
    yield "rgba-array-5000", np.full((5000, 5000, 4), 255, np.uint8)
    yield "rgb-png-4000x3000", encoded(seven((4000, 3000), width=200).convert("RGB"), "PNG")
    yield "jpeg-8000x6000", encoded(seven((8000, 6000), width=300).convert("RGB"), "JPEG")
    rng = np.random.default_rng(seed)
    originals = {k: f() for k, f in FILES.items()}
    for i in range(mutations):
        for kind, data in originals.items():
            yield f"{kind}~{i}", mutate(data, rng)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutations", type=int, default=200, help="mutations of each format")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    outcomes: collections.Counter = collections.Counter()
    stray, slow, hungry = [], [], []
    for name, value in corpus(args.mutations, args.seed):
        reset_peak()
        before, start = peak_rss_mb(), time.perf_counter()
        try:
            to_mnist(value)
            outcomes["digit"] += 1
        except BlankImageError:
            outcomes["blank (BlankImageError)"] += 1
        except ImageError:
            outcomes["refused (ImageError)"] += 1
        except Exception as exc:
            outcomes["other exception"] += 1
            stray.append((name, f"{type(exc).__name__}: {exc}"))
        slow.append((time.perf_counter() - start, name))
        hungry.append((peak_rss_mb() - before, name))
    total = sum(outcomes.values())
    print(f"{total:,} inputs: " + ", ".join(f"{v:,} {k}" for k, v in outcomes.most_common()))
    for name, text in stray[:20]:
        print(f"  NOT AN ImageError: {name}: {text}")
    slow.sort(reverse=True)
    hungry.sort(reverse=True)
    print(f"slowest (limit {LIMIT_S:.0f} s): " + ", ".join(f"{n} {t:.2f} s" for t, n in slow[:5]))
    print(
        f"most memory (limit {LIMIT_MB} MB): "
        + ", ".join(f"{n} +{m:.0f} MB" for m, n in hungry[:5])
    )
    ok = not stray and slow[0][0] <= LIMIT_S and hungry[0][0] <= LIMIT_MB
    print("within the limits" if ok else "OUTSIDE THE LIMITS")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "mutations_per_format": args.mutations,
                "inputs": total,
                "outcomes": dict(outcomes),
                "other_exceptions": len(stray),
                "slowest_seconds": round(slow[0][0], 2),
                "most_memory_mb": round(hungry[0][0]),
                "within_limits": ok,
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
