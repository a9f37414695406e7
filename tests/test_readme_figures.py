"""The README's measured figures are the ones the benchmarks wrote to ``bench/results/``.

A benchmark run rewrites its JSON; a README table that was not updated with it fails here.
"""

import json
import re

import pytest
from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
RESULTS = ROOT / "bench" / "results"


def result(name: str) -> dict:
    return json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))


def table_row(label: str) -> list[str]:
    """The cells of the README table row that starts with ``label``."""
    for line in README.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == label:
            return cells[1:]
    raise AssertionError(f"no README table row {label!r}")


def percent(value: float, places: int = 1) -> str:
    return f"{100 * value:.{places}f}"


def test_real_pen_digits_per_class_and_overall():
    pen = result("pen_digits")
    row = table_row("real pen digits, writers left out (7,494)")
    assert row[:10] == [percent(a) for a in pen["canvas"]["per_class"]]
    assert row[10] == f"**{percent(pen['canvas']['accuracy'], 2)}%**"
    assert pen["digits"] == 7494 and pen["writers"] == 30 and len(pen["folds"]) == 5
    browser = pen["folds"][0]["browser"]
    assert browser["digits"] == 100 and browser["unanswered"] == 0
    assert f"**{round(browser['accuracy'] * 100)} of 100 read" in README.replace("\n", " ")
    for rendering, words in (
        ("polyline", "straight lines between the positions"),
        ("dense", "a dense curve through them"),
        ("thick pen", "a thick 32-px pen (170 px tall)"),
    ):
        assert f"{words} {percent(pen[rendering]['accuracy'], 2)}%" in README.replace("\n", " ")


def test_mnist_per_class_of_the_default_network():
    drawn = result("drawn_digits")
    row = table_row("MNIST test set (10,000), the default network")
    assert row[:10] == [percent(a) for a in drawn["mnist_per_class"]]
    assert row[10] == f"**{percent(drawn['mnist_accuracy'], 2)}%**"


@pytest.mark.parametrize(
    ("label", "name", "mnist"),
    [
        ("− synthetic tablet digits (recipe 4, the default)", "pen_digits", None),
        ("+ slashed zeros", "pen_digits_slashed_zeros_with_tablet", None),
        ("MNIST + pen digits, recipe 3's augmentation", "pen_digits_recipe3_plus_pen", None),
    ],
)
def test_the_recipe_comparison(label, name, mnist):
    measured = result(name)
    row = table_row(label)
    assert row[0].startswith(f"{percent(measured['mnist_accuracy_mean'], 2)}%")
    assert row[1].strip("*") == f"{percent(measured['canvas']['accuracy'], 2)}%"
    weakest = min(range(10), key=lambda d: measured["canvas"]["per_class"][d])
    assert row[2] == f"{weakest}: {percent(measured['canvas']['per_class'][weakest])}%"


def test_recipe_3_on_real_pen_digits():
    measured = result("pen_digits_recipe3")
    row = table_row(
        "recipe 3: MNIST only, handwriting augmentation, 20% synthetic tablet digits "
        "(no pen writer seen: all 30 unseen)"
    )
    assert row[1] == f"{percent(measured['canvas']['accuracy'], 2)}%"
    assert row[2] == f"1: {percent(measured['canvas']['per_class'][1])}%"


def test_robustness_of_the_current_networks():
    rows = {r["name"]: r for r in result("robustness")["rows"]}
    keys = ["clean", "fgsm_0.1", "fgsm_0.2", "fgsm_0.3", "pgd40_0.1", "pgd40_0.2", "pgd40_0.3"]
    for name, label in (
        (
            "mnist_cnn",
            "standard (recipe 4, the default: MNIST and pen digits, handwriting augmentation, 26 s)",
        ),
        (
            "mnist_cnn_adversarial",
            "adversarially trained twin (recipe 4's data, PGD-7 at 0.3, 3 epochs, 160 s)",
        ),
    ):
        measured = [
            percent(rows[name][k], 2 if k.startswith(("clean", "fgsm")) else 1) + "%" for k in keys
        ]
        assert table_row(label) == measured
        assert f"{round(rows[name]['training_seconds'])} s)" in label


def test_teaching_and_style_feedback():
    teach = result("teach")
    text = README.replace("\n  ", " ").replace("\n", " ")
    assert (
        f"fell from {percent(teach['before']['mnist'])}% to {percent(teach['naive']['mnist'])}% "
        f"on MNIST, the replayed one kept {percent(teach['replay']['mnist'], 2)}%"
    ) in text
    assert f"{percent(teach['style_mnist_test']['feedback_shown'], 2)}% of MNIST's test" in text
    assert f"{percent(teach['style_pen']['feedback_shown'])}% of the real pen digits" in text


def test_training_speed():
    speed = result("train_speed")
    for label, name in (
        (
            "mnist-viz (default: MNIST and 14,988 pen-digit renderings, handwriting augmentation, "
            "2 epochs)",
            "mnist-viz",
        ),
        (
            "mnist-viz, plain (MNIST alone, no augmentation: `--data-mix mnist --no-augment`)",
            "mnist-viz, plain",
        ),
    ):
        row = table_row(label)
        for cell, epoch in zip(row[:2], speed[name], strict=True):
            assert cell == f"{epoch['seconds']} s, {percent(epoch['test_accuracy'], 2)}%"
    keras_io = speed["keras-io mnist_convnet"]
    row = table_row("keras-io mnist_convnet")
    assert row[2] == (
        f"{keras_io[-1]['seconds']} s (epoch {keras_io[-1]['epoch']}, "
        f"{percent(keras_io[-1]['test_accuracy'], 2)}%)"
    )


def test_the_opening_claims_are_the_measured_ones():
    pen, drawn = result("pen_digits"), result("drawn_digits")
    opening = " ".join(README.split("\n\n")[1].split())
    assert f"{percent(drawn['mnist_accuracy'], 2)}% on MNIST's test set" in opening
    assert f"{percent(pen['canvas']['accuracy'], 2)}% on real pen-drawn digits" in opening
    weakest = min(pen["canvas"]["per_class"])
    claimed = int(re.search(r"every digit at least (\d+)%", opening).group(1))
    assert claimed <= 100 * weakest


def test_the_presets_table():
    for preset in result("presets")["rows"]:
        row = table_row(
            f"`{preset['preset']}` (the default)"
            if preset["preset"] == "classic"
            else f"`{preset['preset']}`"
        )
        assert row[1] == f"{preset['parameters']:,}"
        assert row[2] == f"{percent(preset['mnist_accuracy'], 2)}%"
        assert row[3] == f"{preset['training_seconds']} s"
        assert preset["training_images"] == 74988


def test_the_classroom_table():
    rows = {(r["students"], r["replicas"]): r for r in result("classroom")["rows"]}
    for key, label in (
        ((30, 0), "30"),
        ((30, 2), "30, through nginx to 2 replicas"),
        ((60, 2), "60, through nginx to 2 replicas"),
    ):
        r, row = rows[key], table_row(label)
        assert row[0] == f"{r['browsers']} Chromium + {r['students'] - r['browsers']} protocol"
        assert row[1] == f"{r['median_ms']} / {r['p95_ms']} / {r['max_ms']} ms"
        assert row[2] == f"{r['protocol_answer_median_ms']} / {r['protocol_answer_p95_ms']} ms"
        assert row[3] == f"{r['missing']} of {r['drawings']}" and r["missing"] == 0
        assert row[4].startswith(f"{r['server_cpu_ms_per_drawing']} ms")
        assert row[6] == r["chromium"].removeprefix("Chromium ")
        if key[0] == 30:
            assert r["p95_ms"] <= 1000


def test_the_bad_input_figures():
    bad = result("bad_inputs")
    text = " ".join(README.split())
    assert f"{bad['inputs']:,} inputs" in text and bad["within_limits"]
    assert f"the slowest {bad['slowest_seconds']} s, at most {bad['most_memory_mb']} MB" in text


def class_rows(report: dict) -> dict[str, str]:
    """The README's class-benchmark cells for one database's ``bench/class_work.py`` run."""
    push = report["push"]
    return {
        "drawings answered": f"{report['answered']:,}",
        "answered drawings missing from the database": str(
            len(report["answered_missing_from_database"])
        ),
        "labels kept": f"{report['labelled'] - len(report['labels_missing']):,} of "
        f"{report['labelled']:,}",
        "students reconnected after the restart (slowest)": f"{report['reconnects']} "
        f"({report['reconnect_max_s']} s)",
        "pushes reaching a page within 2 s": f"{push['within_2s']} of "
        f"{report['pushes'] * report['students']}",
        "... as the pushed digit's answer / as the notice": f"{push['as_the_pushed_digits_answer']}"
        f" / {push['as_the_notice_that_it_came_while_drawing']}",
        "push delay: median / p95 / max (s)": f"{push['median_s']} / {push['p95_s']} / "
        f"{push['max_s']}",
        "server CPU per drawing: unjoined / joined / joined and labelling (ms)": " / ".join(
            str(report[f"cpu_ms_per_drawing_{k}"])
            for k in ("unjoined", "joined", "joined_labelling")
        ),
        "saving, per drawing (ms of server CPU)": str(report["save_cpu_ms_per_drawing"]),
        "a label tap, per drawing (ms of server CPU)": str(report["label_tap_cpu_ms_per_drawing"]),
    }


def test_the_class_benchmark():
    sqlite, postgres = result("class_work_sqlite"), result("class_work_postgres")
    assert sqlite["students"] == postgres["students"] == 30
    assert sqlite["seconds"] == postgres["seconds"] == 600
    for label, cell in class_rows(sqlite).items():
        assert table_row(label) == [cell, class_rows(postgres)[label]], label
    assert sqlite["commit"] == postgres["commit"]
    text = README.replace("\n", " ")
    assert f"Both were measured at {sqlite['commit']}" in text
    view = result("class_view")
    assert (
        f"opens in {view['open_median_s']} s (median of {view['openings']}; slowest "
        f"{view['open_max_s']} s)" in text
    )


def row_starting(prefix: str) -> list[str]:
    """The cells of the README table row whose first cell starts with ``prefix``."""
    for line in README.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0].startswith(prefix):
            return cells[1:]
    raise AssertionError(f"no README table row starting {prefix!r}")


def test_the_slider_and_page_switches_under_load():
    load = result("under_load")
    for prefix, what in (
        ("moving the epsilon slider one step", "epsilon slider"),
        ("switching pages", "page switch"),
    ):
        m, row = load[what], row_starting(prefix)
        assert row == [
            f"{m['alone_median_ms']} / {m['alone_max_ms']} ms",
            f"{m['class_median_ms']} / {m['class_max_ms']} ms",
            f"{m['ratio']:.2f}",
        ]
    assert load["class"]["missing"] == 0
    assert f"Chromium {load['chromium'].removeprefix('Chromium ')}" in " ".join(README.split())
    assert f"while {load['class']['students']} protocol students draw" in " ".join(README.split())


def test_the_page_rerun_tables():
    speed = result("page_speed")
    assert "AppTest" in speed["timer"]
    for name, m in speed["pages"].items():
        row = table_row(name)
        assert row == [f"{m['first_visit_s']:.1f} s", f"{m['median_ms']} ms", f"{m['max_ms']} ms"]


def test_the_lab_and_inference_tables():
    lab = result("lab_speed")
    release, curve = lab["slider_release"], lab["fgsm_curve"]
    row = row_starting("releasing the epsilon slider")
    assert row[1].startswith(
        f"median {release['median_ms']} ms, max {release['max_ms']} ms over "
        f"{release['releases']} releases"
    )
    assert table_row(
        f"FGSM robustness curve, {curve['images']:,} test images x {curve['epsilons']} epsilons"
    ) == ["10 s", f"{curve['seconds']} s"]
    inference = result("inference")["median_ms"]
    for prefix, name in (
        ("one prediction (", "one prediction (predict_proba, traced model call)"),
        ("one prediction plus", "one prediction + every layer (layer_activations)"),
        ("`model.predict(x)`", "one prediction, model.predict(x) (for comparison)"),
    ):
        assert row_starting(prefix) == [f"{inference[name]:.2f} ms"]


def test_the_hung_database_figures():
    hung = result("hung_database")
    text = README.replace("\n", " ")
    h, q = hung["hung"], hung["sqlite"]
    assert (
        f"median {h['page_load']['median_s']:.3f} s hung against {q['page_load']['median_s']:.3f} s"
        in text
    )
    assert f"{h['page_load']['p95_s']:.3f} s against {q['page_load']['p95_s']:.3f} s" in text
    assert f"came back {hung['recovered_after_s']:.2f} s after" in text
    assert hung["page_load_extra_p95_s"] <= 1.0 and hung["recovered_after_s"] <= 15


def test_the_full_disk_lesson_figures():
    lesson = result("lesson_sqlite_full_disk")
    disk, chromium = lesson["full_disk"], lesson["chromium"]
    text = README.replace("\n", " ")
    assert f"none of the {disk['saved_before_fill']} drawings saved before" in text
    assert f"{disk['saved_after_free']} were saved after it was freed" in text
    assert f"{chromium['unsaved_said']} Chromium answers said" in text
    assert f"({chromium['answers_checked']} answers checked" in text
    assert disk["lost"] == [] and disk["saved_after_free"] > 0 and chromium["violations"] == []


def _growth(values) -> str:
    known = [v for v in values if v is not None]
    most = f"{max(known):.2f}" if known else "-"
    return most + (f" ({len(values) - len(known)} not sampled)" if len(known) < len(values) else "")


def lesson_rows(report: dict) -> dict[str, str]:
    """The README's lesson table (``bench/lesson.py``), one cell per row, from its JSON."""
    c, p = report["chromium"], report["protocol"]
    push, ppush = report["push_to_chromium_notice"], p["push"]
    client = report.get("client_cpu") or {}
    return {
        "Chromium drawings answered": f"{c['answered']} of {c['drawings']}",
        "answers checked as a person sees them / checks failed": (
            f"{c['answers_checked']} / {len(c['violations'])}"
        ),
        "label taps / lost silently / lost with the restarted replica": (
            f"{c['taps']} / {c['taps_lost']} / {c.get('taps_lost_with_restart', 0)}"
        ),
        "a tap's label in the database, p95 (s)": f"{c['tap_landed_p95_s']}",
        "Chromium pen-up to answer on screen: median / p95 (ms)": (
            f"{c['median_ms']} / {c['p95_ms']}"
        ),
        "protocol drawings answered / missing from the database": (
            f"{p['answered']} / {len(p['missing_from_database'])}"
        ),
        "protocol labels missing": f"{len(p['labels_missing'])}",
        "teacher's pushes (a challenge's included)": f"{report['pushes']}",
        "push to a Chromium page: arrived / within 2 s / p95 (s)": (
            f"{push['arrivals'].split(' (')[0]} / {push['within_2s']} / {push['p95_s']}"
        ),
        "push to a protocol student: arrived / within 2 s / p95 (s)": (
            f"{ppush['arrivals']} / {ppush['within_2s']} / {ppush['p95_s']}"
        ),
        "JS heap growth, largest of the tabs": _growth(list(c["heap_growth"].values())),
        "replica RSS growth, larger of the two": _growth(report["replica_rss_growth"]),
        "cores busy: server / client": (
            f"{report['cores_busy']['server']:.2f} / {report['cores_busy']['client']:.2f}"
        ),
        "client core: Chromium / its driver / the bench (cores)": " / ".join(
            f"{client.get(k, 0):.2f}"
            for k in ("chromium", "playwright driver", "bench (protocol students, scripts)")
        ),
        "Chromium students' steps that failed (page reloaded)": f"{len(c['errors'])}",
        "the teacher's class view worked throughout": (
            "yes" if report["teacher_class_view_open"] else "no"
        ),
    }


def test_the_lesson_tables():
    runs = [result("lesson_sqlite"), result("lesson_postgres")]
    from bench.lesson import failures

    text = README.replace("\n", " ")
    for run, name in zip(runs, ("SQLite", "PostgreSQL"), strict=True):
        assert run["minutes"] == 20 and run["chromium_students"] == 6
        assert run["protocol_students"] == 24
        assert run["failed"] == failures(run)
        verdict = (
            "every check held"
            if not run["failed"]
            else f"{len(run['failed'])} check{'s' * (len(run['failed']) != 1)} failed"
        )
        assert f"{name} at {run['commit']} on {run['chromium_version']}: {verdict}" in text
    rows = [lesson_rows(run) for run in runs]
    for label in rows[0]:
        assert table_row(label) == [rows[0][label], rows[1][label]], label


def test_the_make_check_figure():
    run = result("check_time")
    minutes, seconds = divmod(round(run["seconds"]), 60)
    text = " ".join(README.split())
    measured = f"{run['tests_passed']} tests in {minutes} min {seconds} s"
    assert f"{measured} (lint included, `bench/check_time.py`, at {run['commit']})" in text
    met = "within" if run["seconds"] <= run["target_s"] else "not within"
    assert f"), {met} the 5-minute target" in text


def test_the_feedback_alignment_figures():
    run = result("feedback_alignment")
    s = run["summary"]
    text = " ".join(README.split())
    assert (
        f"after {s['steps']:,} steps, backpropagation reads {percent(s['backprop_test_accuracy'], 2)}%"
        in text
    )
    assert f"feedback alignment {percent(s['feedback_alignment_test_accuracy'], 2)}%" in text
    assert (
        f"starts at {s['angle_first_degrees']} degrees (a random direction) and falls to "
        f"{s['angle_last_degrees']} (lowest {s['angle_min_degrees']})"
    ) in text
    settings = run["settings"]
    assert (
        f"784 -> {settings['hidden']} ReLU -> 10, plain SGD, batch {settings['batch']}, "
        f"learning rate {settings['learning_rate']}"
    ) in text
    assert f"of the official MNIST, at {run['commit']}: after" in text
    curve = run["curves"]["feedback alignment"]
    assert s["angle_first_degrees"] == round(curve["angle_degrees"][0], 1)
    assert s["angle_min_degrees"] == round(min(curve["angle_degrees"]), 1)
    assert s["angle_last_degrees"] == round(curve["angle_degrees"][-1], 1)
    assert s["feedback_alignment_test_accuracy"] == curve["test_accuracy"][-1]


def test_the_learning_step_figures():
    run = result("learning_step")
    layers = run["layers"]
    worst = max(layers, key=lambda name: layers[name]["server_cpu_ms_median"])
    walls = [layer["click_to_shown_ms_median"] for layer in layers.values()]
    every = [x for layer in layers.values() for x in layer["server_cpu_ms"]]
    text = " ".join(README.split())
    assert f"in Chromium ({run['chromium']}) against a real server" in text
    assert (
        f"at {run['commit']}: {run['steps_per_layer']} steps on each of the {len(layers)}" in text
    )
    assert (
        f"had a median of {run['server_cpu_ms_median']} ms and a maximum of "
        f"{run['server_cpu_ms_max']} ms; the costliest layer, {worst}, had a median of "
        f"{layers[worst]['server_cpu_ms_median']} ms (target: 200 ms)"
    ) in text
    assert f"a median of {min(walls):,} to {max(walls):,} ms by layer" in text
    with_idle = [x for layer in layers.values() for x in layer["server_cpu_ms_with_idle"]]
    assert (
        f"housekeeping, {run['idle_cpu_per_s']} of a core in that run), the median was "
        f"{run['server_cpu_ms_with_idle_median']} ms and the largest step {max(with_idle)} ms"
    ) in text
    assert run["server_cpu_ms_max"] == round(max(every), 1)
    assert all(len(layer["server_cpu_ms"]) == run["steps_per_layer"] for layer in layers.values())
    assert run["exceptions"] == 0


def test_the_jsma_figures():
    run = result("jsma")
    text = " ".join(README.split())
    assert (
        f"`bench/jsma.py` at {run['commit']} attacked the first {run['digits']} test digits" in text
    )
    assert f"with at most {run['budget_pixels']} pixels (10% of the image)" in text
    flipped = f"({run['digits_flipped']} of {run['digits']})"
    assert flipped in text
    assert f"a median of {run['cheapest_pixels_median']:g} pixels for its" in text
    assert f"cheapest target (at most {run['cheapest_pixels_max']})" in text
    reached = f"{run['targets_reached']} of the {run['targets_tried']} (digit, target) pairs"
    assert f"{reached} were reached ({percent(run['targets_reached_share'])}%)" in text
    assert f"median of {run['cpu_s_per_attack_median']} s of CPU per attack" in text


def test_the_lab_slider_figures():
    run = result("lab_slider")
    text = " ".join(README.split())
    pixels, epsilon = run["pixels changed"], run["epsilon"]
    assert (
        f"`bench/lab_slider.py` at {run['commit']}, one Chromium page alone ({run['chromium']})"
        in text
    )
    assert f"{run['moves']} moves each" in text
    assert (
        f"JSMA's slider (pixels changed) a median of {pixels['median_ms']:.1f} ms "
        f"(at most {pixels['max_ms']:.1f})" in text
    )
    assert (
        f"FGSM's (epsilon) a median of {epsilon['median_ms']:.1f} ms (at most {epsilon['max_ms']:.1f})"
        in text
    )
    assert f"a target of {run['target_median_ms']} ms" in text
