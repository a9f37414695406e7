"""Backpropagation against feedback alignment on the official MNIST: a two-layer network (784 ->
256 ReLU -> 10), both rules from the same weights on the same batches
(``mnist_viz.inside.feedback_alignment``), test accuracy on the 10,000 test digits and the angle
between feedback alignment's hidden-layer update and the true gradient at each checkpoint.
Writes ``bench/results/feedback_alignment.json``.

    MNIST_DATA=../shared/data/mnist .venv/bin/python bench/feedback_alignment.py
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.saved import save_to  # noqa: E402
from mnist_viz.core.data import load_mnist  # noqa: E402
from mnist_viz.inside import feedback_alignment as fa  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "feedback_alignment.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = fa.Settings()
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--hidden", type=int, default=defaults.hidden)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--out", default=str(RESULTS), help="where the JSON goes ('-': nowhere)")
    args = parser.parse_args()
    data = load_mnist()
    settings = dataclasses.replace(
        defaults,
        steps=args.steps,
        hidden=args.hidden,
        learning_rate=args.learning_rate,
        seed=args.seed,
    )
    curves = fa.side_by_side(data.x_train, data.y_train, data.x_test, data.y_test, settings)
    bp, fb = curves[fa.BACKPROP], curves[fa.FEEDBACK_ALIGNMENT]
    out = {
        "data": data.describe(),
        "settings": dataclasses.asdict(settings),
        "summary": {
            "steps": bp.steps[-1],
            "backprop_test_accuracy": bp.test_accuracy[-1],
            "feedback_alignment_test_accuracy": fb.test_accuracy[-1],
            "angle_first_degrees": round(fb.angle[0], 1),
            "angle_min_degrees": round(min(fb.angle), 1),
            "angle_last_degrees": round(fb.angle[-1], 1),
        },
        "curves": {rule: curve.to_dict() for rule, curve in curves.items()},
    }
    print(out["summary"])
    save_to(args.out, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
