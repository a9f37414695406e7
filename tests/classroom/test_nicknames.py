"""Nicknames that cannot pass for each other: NFKC, one script, unique by the database."""

from __future__ import annotations

import threading

import pytest

from mnist_viz.classroom import nicknames
from mnist_viz.classroom.classwork import ClassWork
from mnist_viz.classroom.records import ClassError

CYRILLIC_O = "\u043e"
FULL_WIDTH_BOB = "\uff42\uff4f\uff42"


def test_compatibility_forms_and_case_share_one_key() -> None:
    assert nicknames.normalised(f"  {FULL_WIDTH_BOB}   2 ") == "bob 2"
    assert nicknames.key("BOB") == nicknames.key("bob") == nicknames.key(FULL_WIDTH_BOB)
    assert nicknames.key("Straße") == nicknames.key("STRASSE")  # case folding, not lower()


@pytest.mark.parametrize("name", [f"B{CYRILLIC_O}b", "Ada\u03b1", "x\u0430y"])
def test_letters_from_two_scripts_are_refused(name: str) -> None:
    assert "one alphabet" in nicknames.problem(nicknames.normalised(name))


@pytest.mark.parametrize("name", ["Ada L", "Борис", "さくら子", "zoë_2", "O'Neil-3", "Ελένη"])
def test_one_script_with_digits_and_punctuation_is_fine(name: str) -> None:
    assert nicknames.problem(nicknames.normalised(name)) is None


@pytest.mark.parametrize("name", ["", "a" * 25, "ada@school", "a\u200bb", "<b>x</b>", "-ada"])
def test_other_shapes_are_refused(name: str) -> None:
    assert nicknames.problem(nicknames.normalised(name)) is not None


def test_look_alikes_cannot_join_beside_each_other(store) -> None:
    work = ClassWork(store)
    work.join("bob")
    for twin in ("BOB", FULL_WIDTH_BOB, " bob "):
        with pytest.raises(ClassError, match="taken"):
            work.join(twin)
    with pytest.raises(ClassError, match="one alphabet"):
        work.join(f"B{CYRILLIC_O}b")


def test_two_joins_at_once_cannot_both_take_a_nickname(store) -> None:
    work = ClassWork(store)
    work.ensure()
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def join() -> None:
        start.wait()
        try:
            ClassWork(store).join("eve")
            outcomes.append("joined")
        except ClassError:
            outcomes.append("taken")

    threads = [threading.Thread(target=join) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["joined"] + ["taken"] * 7
    assert store.one("SELECT COUNT(*) FROM students WHERE nickname_key = 'eve'") == (1,)
