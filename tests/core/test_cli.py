import pytest

from mnist_viz.__main__ import main
from mnist_viz.core.cache import ModelCache


def test_train_then_evaluate(tiny_idx_folder, tmp_path, capsys):
    models = tmp_path / "cli-models"
    assert (
        main(
            ["train", "--data", str(tiny_idx_folder), "--models-dir", str(models), "--epochs", "1"]
        )
        == 0
    )
    out = capsys.readouterr()
    assert "512 training and 128 test images" in out.out
    assert "Test accuracy:" in out.out and ModelCache(models).model_path.is_file()
    assert "epoch 1/1" in out.err  # progress, one line per epoch when not on a terminal

    assert main(["evaluate", "--data", str(tiny_idx_folder), "--models-dir", str(models)]) == 0
    out = capsys.readouterr().out
    assert "Test accuracy:" in out and out.count("%") >= 11  # overall + one line per digit
    # the recipe's augmentation is on unless switched off
    assert ModelCache(models).read_info().config["augment"] is True
    args = ["train", "--data", str(tiny_idx_folder), "--models-dir", str(models), "--epochs", "1"]
    assert main([*args, "--no-augment"]) == 0
    assert ModelCache(models).read_info().config["augment"] is False


def test_errors_are_one_line_messages(tmp_path, capsys):
    assert main(["evaluate", "--models-dir", str(tmp_path / "empty")]) == 1
    assert capsys.readouterr().err.startswith("error: no cached model")
    assert main(["train", "--data", str(tmp_path / "missing")]) == 1
    assert "no such file or folder" in capsys.readouterr().err


def test_each_architecture_is_trained_into_its_own_cache_file(tiny_idx_folder, tmp_path, capsys):
    models = tmp_path / "arch-models"
    common = ["--data", str(tiny_idx_folder), "--models-dir", str(models)]
    assert main(["train", *common, "--epochs", "1", "--no-augment", "--arch", "mlp"]) == 0
    out = capsys.readouterr().out
    assert "Network: mlp: no convolutions (a multilayer perceptron), dense 512" in out
    assert ModelCache(models, "mnist_mlp").model_path.is_file()
    assert not ModelCache(models).info_path.exists()
    cached = ModelCache(models, "mnist_mlp").load()  # an MLP is an mnist-viz model too
    assert cached.info.config["arch"]["filters"] == []
    assert not [layer for layer in cached.model.layers if layer.name.startswith("conv")]
    assert main(["evaluate", *common, "--arch", "mlp"]) == 0
    assert "Test accuracy:" in capsys.readouterr().out
    assert main(["evaluate", *common, "--arch", "small"]) == 1  # not trained yet
    assert "no cached model" in capsys.readouterr().err


def test_the_data_mix_is_mnist_plus_pen_unless_asked(tiny_idx_folder, tmp_path, capsys):
    models = tmp_path / "mix-models"
    common = ["train", "--data", str(tiny_idx_folder), "--models-dir", str(models), "--epochs", "1"]
    assert main(common) == 0
    out = capsys.readouterr().out
    assert "pen-drawn digits by" in out and "Learned from" in out
    info = ModelCache(models).read_info()
    assert info.config["data_mix"] == "mnist+pen"
    assert [s["name"] for s in info.sources] == ["MNIST", "pen"]
    assert main([*common, "--data-mix", "mnist"]) == 0
    info = ModelCache(models).read_info()
    assert info.config["data_mix"] == "mnist" and info.n_train == 512
    assert [s["name"] for s in info.sources] == ["MNIST"]
    with pytest.raises(SystemExit):  # argparse refuses anything else
        main([*common, "--data-mix", "pen"])
    assert "invalid choice" in capsys.readouterr().err


def test_a_malformed_pen_file_is_a_one_line_error(tiny_idx_folder, tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.tra"
    bad.write_text('.SEGMENT DIGIT 0 ? "3"\n.COMMENT 3 1 1\n.PEN_DOWN\n 1 2 3\n.PEN_UP\n')
    monkeypatch.setenv("MNIST_VIZ_PEN_DATA", str(bad))
    args = ["train", "--data", str(tiny_idx_folder), "--models-dir", str(tmp_path / "m")]
    assert main(args) == 1
    assert capsys.readouterr().err.strip() == (
        f"error: {bad}, line 4: expected a pen position 'x y' (two integers), found '1 2 3'"
    )
