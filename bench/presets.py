"""Every preset network trained with the default recipe (MNIST and the pen digits): MNIST test
accuracy, parameters and training time, for the README's model-workshop table.

Writes ``bench/results/presets.json``. The no-pooling network takes several minutes.

    MNIST_DATA=../shared/data/mnist .venv/bin/python bench/presets.py [--models-dir DIR] [--only small]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.saved import save_to  # noqa: E402
from mnist_viz.core.architecture import PRESETS  # noqa: E402
from mnist_viz.core.cache import ModelCache, model_name  # noqa: E402
from mnist_viz.core.data import load_mnist  # noqa: E402
from mnist_viz.core.training import TrainConfig  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "presets.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models-dir", help="where the trained presets go (default: a temp dir)")
    parser.add_argument("--only", nargs="*", help="these presets only")
    parser.add_argument("--out", default=str(RESULTS), help="where the JSON goes ('-': nowhere)")
    args = parser.parse_args(argv)
    data = load_mnist()
    models_dir = args.models_dir or tempfile.mkdtemp(prefix="mnist-viz-presets-")
    rows = []
    for name, arch in PRESETS.items():
        if args.only and name not in args.only:
            continue
        cached = ModelCache(models_dir, model_name(name)).train(
            lambda: data, TrainConfig(arch=arch)
        )
        row = {
            "preset": name,
            "network": arch.describe(),
            "parameters": int(cached.model.count_params()),
            "mnist_accuracy": round(cached.info.test_accuracy, 4),
            "training_seconds": round(cached.info.training_seconds, 1),
            "training_images": cached.info.n_train,
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
    save_to(args.out, {"rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
