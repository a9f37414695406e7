"""Time to 99.0% test accuracy: this project's recipe vs the classic keras-io mnist_convnet recipe.

All train the same network (mnist_viz.core.model) on CPU: this project's default recipe on MNIST's
60,000 training images plus two renderings of each of the 7,494 real pen digits, its plain
variant on MNIST alone without augmentation, and keras-io's on MNIST alone.
keras-io's recipe (https://keras.io/examples/vision/mnist_convnet/): Adam at its default learning
rate, batch 128, categorical cross-entropy, dropout 0.5, 10% of the training set held out for
validation, 15 epochs, no schedule. Test accuracy is measured after every epoch on the official
10,000 test images; that measurement is excluded from the time.

    MNIST_DATA=../shared/data/mnist .venv/bin/python bench/train_speed.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras

from bench.saved import save
from mnist_viz.core.data import NUM_CLASSES, load_mnist
from mnist_viz.core.data_mix import MIX_MNIST
from mnist_viz.core.model import build_model, evaluate, to_model_input
from mnist_viz.core.training import TrainConfig, train_model

TARGET = 0.990
KERAS_IO_EPOCHS = 15
LOG: dict[str, list] = {}  # recipe -> [{"epoch", "seconds", "test_accuracy"}], written as JSON


class TimeToTarget(keras.callbacks.Callback):
    """Training seconds (test evaluation excluded) until test accuracy first reaches TARGET."""

    def __init__(self, data):
        super().__init__()
        self.data = data
        self.excluded = 0.0
        self.reached: tuple[int, float, float] | None = None

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self.start - self.excluded
        tick = time.perf_counter()
        accuracy = evaluate(self.model, self.data.x_test, self.data.y_test).accuracy
        self.excluded += time.perf_counter() - tick
        print(
            f"  keras-io epoch {epoch + 1}: {elapsed:6.1f} s, test accuracy {accuracy:.4f}",
            flush=True,
        )
        LOG.setdefault("keras-io mnist_convnet", []).append(
            {"epoch": epoch + 1, "seconds": round(elapsed, 1), "test_accuracy": round(accuracy, 4)}
        )
        if accuracy >= TARGET and self.reached is None:
            self.reached = (epoch + 1, elapsed, accuracy)
            self.model.stop_training = True


def ours(data, plain: bool = False) -> tuple[int, float, float] | None:
    """The default recipe (MNIST and pen digits, handwriting augmentation), or with ``plain`` the
    plain one (MNIST alone, no augmentation)."""
    config = TrainConfig(augment=False, data_mix=MIX_MNIST) if plain else TrainConfig()
    result = train_model(data, config)
    name = "mnist-viz, plain" if plain else "mnist-viz"
    epochs = list(zip(result.history["seconds"], result.history["test_accuracy"], strict=True))
    for epoch, (seconds, accuracy) in enumerate(epochs, start=1):
        print(f"  {name} epoch {epoch}: {seconds:6.1f} s, test accuracy {accuracy:.4f}", flush=True)
        LOG.setdefault(name, []).append(
            {"epoch": epoch, "seconds": round(seconds, 1), "test_accuracy": round(accuracy, 4)}
        )
    LOG[f"{name}, final"] = [
        {"seconds": round(result.seconds, 1), "test_accuracy": round(result.test_accuracy, 4)}
    ]
    print(f"  {name} final: {result.seconds:.1f} s, test accuracy {result.test_accuracy:.4f}")
    reached = [(e, s, a) for e, (s, a) in enumerate(epochs, start=1) if a >= TARGET]
    return reached[0] if reached else None


def keras_io(data) -> tuple[int, float, float] | None:
    keras.utils.set_random_seed(0)
    model = build_model(dropout=0.5)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    clock = TimeToTarget(data)
    model.fit(
        to_model_input(data.x_train),
        keras.utils.to_categorical(data.y_train, NUM_CLASSES),
        batch_size=128,
        epochs=KERAS_IO_EPOCHS,
        validation_split=0.1,
        callbacks=[clock],
        verbose=0,
    )
    return clock.reached


def main() -> None:
    data = load_mnist()
    print(f"{data.describe()}; {os.cpu_count()} CPU cores; keras {keras.__version__}")
    results = {
        "mnist-viz": ours(data),
        "mnist-viz, plain": ours(data, plain=True),
        "keras-io mnist_convnet": keras_io(data),
    }
    save("train_speed", LOG)  # marked with the commit it ran on
    print(f"\nTime to {TARGET:.1%} test accuracy:")
    for name, reached in results.items():
        if reached:
            epoch, seconds, accuracy = reached
            print(f"  {name:28s} {seconds:6.1f} s  (epoch {epoch}, {accuracy:.2%})")
        else:
            print(f"  {name:28s} not reached")
    if all(results.values()):
        ratio = results["keras-io mnist_convnet"][1] / results["mnist-viz"][1]
        print(f"  mnist-viz is {ratio:.1f}x faster")


if __name__ == "__main__":
    main()
