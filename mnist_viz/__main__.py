"""Command line: ``python -m mnist_viz train`` and ``python -m mnist_viz evaluate``."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from mnist_viz.core.architecture import DEFAULT_ARCH, PRESETS
from mnist_viz.core.data_mix import DATA_MIXES, DEFAULT_MIX
from mnist_viz.core.errors import MnistVizError

BAR_WIDTH = 30


def _progress_printer(stream=None):
    stream = stream or sys.stderr
    interactive = stream.isatty()

    def report(p) -> None:
        if not interactive:  # logs and pipes get one line per epoch, not a redrawn bar
            if p.batch == p.batches:
                stream.write(
                    f"epoch {p.epoch}/{p.epochs}: loss {p.loss:.4f} accuracy {p.accuracy:.4f}\n"
                )
            return
        filled = int(BAR_WIDTH * p.fraction)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        stream.write(
            f"\r[{bar}] epoch {p.epoch}/{p.epochs} batch {p.batch}/{p.batches} "
            f"loss {p.loss:.4f} accuracy {p.accuracy:.4f}"
        )
        if p.batch == p.batches and p.epoch == p.epochs:
            stream.write("\n")
        stream.flush()

    return report


def _train(args: argparse.Namespace) -> int:
    from mnist_viz.core.architecture import preset
    from mnist_viz.core.cache import ModelCache, model_name
    from mnist_viz.core.data import load_mnist
    from mnist_viz.core.data_mix import MIX_MNIST_PEN
    from mnist_viz.core.pendigits import load_pen_digits
    from mnist_viz.core.training import TrainConfig

    arch = preset(args.arch)
    data = load_mnist(args.data)
    print(f"Data: {data.describe()}")
    config = TrainConfig(arch=arch, data_mix=args.data_mix)
    if config.data_mix == MIX_MNIST_PEN:
        pen = load_pen_digits()
        print(f"  and {pen.describe()}: {pen.location}")
    print(f"Network: {arch.name}: {arch.describe()}")
    if args.augment is not None:
        config = replace(config, augment=args.augment)
    if args.epochs:
        config = replace(config, epochs=args.epochs)
    cache = ModelCache(args.models_dir, model_name(arch.name))
    result = cache.train(
        lambda: data,
        config,
        progress=_progress_printer(),
        on_wait=lambda: print("Another process is training into this folder; waiting for it..."),
    )
    info = result.info
    for source in info.sources:
        print(f"Learned from {source['name']}: {source['images']:,} training images")
    print(f"Test accuracy: {info.test_accuracy:.2%} on {info.n_test:,} MNIST test images")
    print(f"Training time: {info.training_seconds:.1f} s for {info.epochs} epochs")
    print(f"Saved to {cache.model_path}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from mnist_viz.core.cache import ModelCache, model_name
    from mnist_viz.core.data import load_mnist
    from mnist_viz.core.model import evaluate

    cache = ModelCache(args.models_dir, model_name(args.arch))
    cached = cache.load()
    data = load_mnist(args.data)
    print(f"Model: {cache.model_path} (trained on {cached.info.data_description})")
    print(f"Data: {data.describe()}")
    result = evaluate(cached.model, data.x_test, data.y_test)
    print(
        f"Test accuracy: {result.accuracy:.2%} ({int(result.confusion.trace()):,} of {len(data.y_test):,})"
    )
    for digit, acc in enumerate(result.per_class_accuracy):
        print(f"  {digit}: {acc:.2%} of {int(result.confusion[digit].sum()):,}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run one command; project errors become a one-line message, exit 1."""
    parser = argparse.ArgumentParser(prog="python -m mnist_viz", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("train", "train the CNN and replace the cached model"),
        ("evaluate", "test accuracy and per-class accuracy of the cached model"),
    ):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--data", help="folder of the four MNIST IDX files, or an mnist.npz")
        cmd.add_argument("--models-dir", help="model cache folder (default: models/)")
        cmd.add_argument(
            "--arch",
            choices=list(PRESETS),
            default=DEFAULT_ARCH,
            help=f"the network (default: {DEFAULT_ARCH}; see mnist_viz.core.architecture)",
        )
        if name == "train":
            cmd.add_argument("--epochs", type=int, help="epochs (default: the recipe's 2)")
            cmd.add_argument(
                "--data-mix",
                choices=DATA_MIXES,
                default=DEFAULT_MIX,
                help="what it learns from: MNIST alone, or MNIST plus 7,494 real pen-drawn "
                f"digits by 30 writers (default: {DEFAULT_MIX}; see mnist_viz.core.data_mix)",
            )
            cmd.add_argument(
                "--augment",
                action=argparse.BooleanOptionalAction,
                default=None,
                help="vary training digits as handwriting varies (default: on; see mnist_viz.core.augment)",
            )
    args = parser.parse_args(argv)
    try:
        return _train(args) if args.command == "train" else _evaluate(args)
    except MnistVizError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
