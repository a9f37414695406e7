"""The class's records on both back-ends (SQLite, PostgreSQL): the schema's migrations, students
and their saved drawings, the teacher's counts, pushes, challenges, exports and deletion."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from mnist_viz.classroom import quotas
from mnist_viz.classroom.classwork import ClassWork
from mnist_viz.classroom.pushes import RECENT_PUSH_S
from mnist_viz.classroom.records import ClassError, from_bytes
from mnist_viz.classroom.retention import start_retention, stop_retention
from mnist_viz.classroom.store import MIGRATIONS, Store, StoreError


def digit(value: int) -> np.ndarray:
    image = np.zeros((28, 28), np.float32)
    image[4:24, 10 + value % 5 : 13 + value % 5] = 1.0
    return image


def test_the_schema_is_versioned_and_migrating_again_changes_nothing(store):
    assert store.version() == len(MIGRATIONS)
    assert store.migrate() == len(MIGRATIONS)
    tables = {"classes", "students", "drawings", "challenges", "submissions"}
    for table in tables:
        assert store.execute(f"SELECT COUNT(*) FROM {table}") == [(0,)]


def test_a_newer_schema_is_refused(store):
    store.execute("INSERT INTO schema_version VALUES (?)", (len(MIGRATIONS) + 1,))
    with pytest.raises(StoreError, match="newer than this app"):
        store.migrate()


def test_a_student_joins_under_a_nickname_and_resumes_with_a_code(store):
    work = ClassWork(store)
    ada, token = work.join("  Ada   L ")
    assert ada.nickname == "Ada L" and len(token) >= 16
    assert work.resume(token) == ada
    assert work.resume("not-a-code-at-all") is None
    assert ClassWork(store, "other").resume(token) is None  # a code belongs to its class
    with pytest.raises(ClassError, match="taken"):
        work.join("ada l")
    for bad in ["", "a@b.example", "x" * 25, "<script>"]:
        with pytest.raises(ClassError, match="nickname"):
            work.join(bad)
    stored = store.execute("SELECT token_hash FROM students")
    assert token not in str(stored)  # only its hash is kept


def test_a_new_code_replaces_the_old_and_leave_revokes_it(store):
    work = ClassWork(store)
    ada, first = work.join("ada")
    bob, bobs = work.join("bob")
    second = work.new_code(ada.id)
    assert second != first and work.resume(first) is None and work.resume(second) == ada
    assert work.resume(bobs) == bob  # nobody else's code changes
    work.revoke_code(ada.id)
    assert work.resume(second) is None and work.students() == [ada, bob]  # the work stays
    third = work.new_code(ada.id)  # the teacher's reset brings them back
    assert work.resume(third) == ada
    with pytest.raises(ClassError, match="not in this class"):
        ClassWork(store, "other").new_code(ada.id)  # a class cannot reset another's students
    assert work.resume(third) == ada


def test_a_code_unused_for_longer_than_the_retention_expires(store):
    work = ClassWork(store)
    ada, token = work.join("ada")
    work.set_retention(3)
    day = 86400.0
    assert work.resume(token, now=time.time() + 2.9 * day) == ada  # used: last seen is now
    assert work.resume(token, now=time.time() + 5.8 * day) == ada  # 2.9 days after that use
    assert work.resume(token, now=time.time() + 9 * day) is None  # 9 days after: expired
    work.set_retention(30)  # a longer retention keeps it again (nothing was deleted)
    assert work.resume(token, now=time.time() + 9 * day) == ada


def test_drawings_are_saved_updated_labelled_and_shared(store):
    work = ClassWork(store)
    ada, _ = work.join("ada")
    bob, _ = work.join("bob")
    first = work.save_drawing(ada.id, digit(1), 7, 0.6, "sha", png=b"\x89PNG...")
    again = work.save_drawing(ada.id, digit(2), 1, 0.9, "sha", drawing_id=first)  # 2nd stroke
    assert again == first
    other = work.save_drawing(bob.id, digit(3), 3, 0.99, "sha")
    # bob cannot touch ada's drawing
    assert work.save_drawing(bob.id, digit(4), 4, 0.5, "sha", drawing_id=first) != first
    work.set_label(ada.id, first, 1)
    work.set_label(bob.id, first, 9)  # ignored: not bob's
    mine = work.student_drawings(ada.id)
    assert [(d.id, d.predicted, d.label, d.shared) for d in mine] == [(first, 1, 1, False)]
    np.testing.assert_array_equal(mine[0].image, np.round(digit(2) * 255).astype(np.uint8))
    assert work.shared_drawings() == []
    work.set_shared(ada.id, first, True)
    assert [d.id for d in work.shared_drawings()] == [first]
    work.set_label(bob.id, other, 8)
    work.set_shared(bob.id, other, True)
    assert [d.id for d in work.misreads()] == [other]  # an 8 read as 3
    with pytest.raises(ClassError):
        work.set_label(ada.id, first, 12)


def test_the_teachers_counts_and_confusion(store):
    work = ClassWork(store)
    ada, _ = work.join("ada")
    for label, predicted in [(7, 7), (7, 2), (7, 2), (1, 1)]:
        d = work.save_drawing(ada.id, digit(label), predicted, 0.8, "sha")
        work.set_label(ada.id, d, label)
    work.save_drawing(ada.id, digit(0), 0, 0.8, "sha")  # not labelled
    matrix = work.confusion()
    assert matrix[7, 2] == 2 and matrix[7, 7] == 1 and matrix[1, 1] == 1 and matrix.sum() == 4
    stats = work.stats()
    assert stats["students"] == stats["active_students"] == 1
    assert stats["drawings"] == 5 and stats["labelled"] == 4
    assert stats["drawings_per_minute"] == pytest.approx(1.0)  # 5 in the last 5 minutes
    images, labels = work.labelled()
    assert images.shape == (4, 28, 28) and list(labels) == [7, 7, 7, 1]


def test_a_pushed_digit_and_its_id(store):
    work = ClassWork(store)
    assert work.current_push().id == 0
    first = work.push(digit(3), 3, "look at this 3")
    second = work.push(digit(5), None, "and this")
    assert second == first + 1
    push = work.current_push()
    assert push.id == second and push.label is None and push.text == "and this"
    np.testing.assert_array_equal(push.image, np.round(digit(5) * 255).astype(np.uint8))


def test_a_push_keeps_its_time_and_a_page_that_opens_just_after_takes_it(store):
    work = ClassWork(store)
    assert work.current_push().seen_by_a_new_page(1e12) == 0  # nothing pushed
    before = time.time()
    pushed = work.push(digit(3), 3, "look at this 3")
    push = work.current_push()
    assert before <= push.at <= time.time()
    # a page opening within RECENT_PUSH_S counts only the push before as seen: it takes this one
    assert push.seen_by_a_new_page(push.at + 1.0) == pushed - 1
    assert push.seen_by_a_new_page(push.at + RECENT_PUSH_S + 0.1) == pushed
    assert replace(push, at=None).seen_by_a_new_page(push.at) == pushed  # before migration 2


def test_times_keep_their_seconds_on_both_databases(store):
    # PostgreSQL's REAL is 4 bytes: a time since 1970 came back rounded to two minutes
    work = ClassWork(store)
    ada, _ = work.join("ada")
    saved = work.save_drawing(ada.id, digit(1), 1, 0.9, "sha", source="drawing")
    store.execute("UPDATE drawings SET created = ? WHERE id = ?", (1_700_000_000.25, saved))
    (row,) = [d for d in work.student_drawings(ada.id) if d.id == saved]
    assert row.created == 1_700_000_000.25


@pytest.fixture(params=["sqlite", "postgres"])
def schema_1(request, tmp_path):
    """A class database at schema version 1, as the last release left it, with a push, a
    student and a drawing in it; on each back-end."""
    if request.param == "sqlite":
        old = Store(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    else:
        old = Store(request.getfixturevalue("postgres_url"))
        for table in ("submissions", "challenges", "drawings", "students", "classes"):
            old.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
        old.execute("DROP TABLE IF EXISTS schema_version")
    dialect = (
        {"{id}": "BIGSERIAL PRIMARY KEY", "{blob}": "BYTEA"}
        if old.postgres
        else {"{id}": "INTEGER PRIMARY KEY AUTOINCREMENT", "{blob}": "BLOB"}
    )
    script = MIGRATIONS[0]
    for key, value in dialect.items():
        script = script.replace(key, value)
    with old.transaction():
        old.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for statement in (s.strip() for s in script.split(";")):
            if statement:
                old.execute(statement)
        old.execute("INSERT INTO schema_version VALUES (1)")
        old.execute(
            "INSERT INTO classes (id, created, push_id, push_image, push_text) "
            "VALUES ('class', 0, 4, ?, 'an old push')",
            (b"\0" * 784,),
        )
    # students as schema 1 let them join: two that differ only in case, and a look-alike
    ids = [
        old.one(
            "INSERT INTO students (class_id, nickname, token_hash, created, last_seen) "
            "VALUES ('class', ?, ?, 0, 0) RETURNING id",
            (nickname, f"hash-{nickname}"),
        )[0]
        for nickname in ("ada", "ADA", "B\u043eb")
    ]
    ClassWork(old).save_drawing(ids[0], digit(2), 2, 0.8, "sha", source="drawing")
    yield old
    old.close()


def test_a_database_at_schema_1_gains_the_push_time_and_keeps_its_records(schema_1):
    assert schema_1.migrate() == len(MIGRATIONS)
    work = ClassWork(schema_1)
    push = work.current_push()
    assert (push.id, push.text, push.at) == (4, "an old push", None)
    assert push.seen_by_a_new_page(time.time()) == 4  # an old push is not taken again
    (drawing,) = work.all_drawings()
    assert (drawing.student, drawing.predicted) == ("ada", 2)
    assert abs(drawing.created - time.time()) < 300  # REAL on PostgreSQL: within two minutes
    work.push(digit(3), 3, "a new push")
    assert work.current_push().at is not None


def test_migration_3_keys_the_old_nicknames_and_keeps_every_student(schema_1):
    schema_1.migrate()
    keys = dict(schema_1.execute("SELECT nickname, nickname_key FROM students"))
    assert keys["ada"] == "ada" and keys["ADA"].startswith("ada#")  # both kept, neither takeable
    work = ClassWork(schema_1)
    for taken in ("Ada", "ADA", "\uff41\uff44\uff41"):  # the last: full-width letters
        with pytest.raises(ClassError, match="taken"):
            work.join(taken)
    assert work.join("Bob")[0].nickname == "Bob"  # the old look-alike does not block it


def test_a_challenge_its_submissions_and_the_leaderboard(store):
    work = ClassWork(store)
    ada, _ = work.join("ada")
    bob, _ = work.join("bob")
    with pytest.raises(ClassError):
        work.start_challenge("target", digit(7), 7, None, "sha")
    first = work.start_challenge("fool", digit(7), 7, None, "sha")
    second = work.start_challenge("target", digit(7), 7, 3, "sha")
    assert work.active_challenge().id == second  # one challenge at a time
    work.record_submission(second, ada.id, 0.3, digit(7))
    work.record_submission(second, ada.id, 0.2, digit(7))
    work.record_submission(second, bob.id, 0.25, digit(7))
    assert work.leaderboard(second) == [("ada", 0.2), ("bob", 0.25)]
    assert work.leaderboard(first) == []
    work.stop_challenge()
    assert work.active_challenge() is None


def test_export_retention_and_deleting_the_class(store):
    work = ClassWork(store)
    ada, _ = work.join("ada")
    old = work.save_drawing(ada.id, digit(1), 1, 0.9, "sha")
    new = work.save_drawing(ada.id, digit(2), 2, 0.9, "sha")
    store.execute("UPDATE drawings SET created = created - 40 * 86400 WHERE id = ?", (old,))
    drawings = work.all_drawings()
    rows = list(csv.reader(io.StringIO(work.drawings_csv(drawings).decode())))
    assert rows[0][:3] == ["id", "nickname", "created_utc"] and len(rows) == 3
    with zipfile.ZipFile(io.BytesIO(work.drawings_zip(drawings))) as archive:
        assert sorted(archive.namelist()) == sorted(["drawings.csv", f"{old}.png", f"{new}.png"])
        for d in drawings:  # each PNG is the saved drawing, pixel for pixel (white on black)
            png = np.asarray(Image.open(io.BytesIO(archive.read(f"{d.id}.png"))))
            np.testing.assert_array_equal(png, d.image)
    assert work.settings()["retention_days"] == 30
    assert work.purge() == 1 and [d.id for d in work.all_drawings()] == [new]
    work.set_retention(60)
    with pytest.raises(ClassError):
        work.set_retention(0)
    work.start_challenge("fool", digit(2), 2, None, "sha")
    work.delete()
    for table in ("classes", "students", "drawings", "challenges"):
        assert store.execute(f"SELECT COUNT(*) FROM {table}") == [(0,)]
    ClassWork(store).ensure()  # a new, empty class
    assert ClassWork(store).stats()["students"] == 0


def test_a_bad_url_is_a_clear_error():
    with pytest.raises(StoreError, match="must start with"):
        Store("mysql://somewhere")
    with pytest.raises(StoreError, match="cannot reach"):
        Store("postgresql://nobody@/nowhere?host=/nonexistent&port=1").execute("SELECT 1")


def test_from_bytes_round_trips():
    image = (np.arange(784) % 256).astype(np.uint8).reshape(28, 28)
    np.testing.assert_array_equal(from_bytes(image.tobytes()), image)


def test_many_sessions_share_a_few_connections(store):
    # Streamlit runs each script run in a thread of its own: a connection per thread exhausted
    # PostgreSQL's max_connections in a class of 8 through a restart, and on SQLite opened the
    # file on every page run and never closed it.
    import threading

    from mnist_viz.classroom.store import POOL_SIZE

    def ask() -> None:
        for _ in range(5):
            store.execute("SELECT 1")

    threads = [threading.Thread(target=ask) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store._connections) <= POOL_SIZE


def test_a_tap_gives_the_predicted_digit_a_digit_or_nothing():
    from mnist_viz.classroom.drawings import label_of

    assert label_of("right", 4, "right") == 4
    assert label_of("7", 4, "right") == 7
    assert label_of(None, 4, "right") is None


def test_retention_deletes_old_drawings_submissions_and_students_gone_with_their_codes(store):
    work = ClassWork(store)
    ada, _ = work.join("ada")  # old, with a recent drawing: stays
    bob, _ = work.join("bob")  # old, nothing recent: goes
    cy, _ = work.join("cy")  # recent: stays
    kept = work.save_drawing(ada.id, digit(1), 1, 0.9, "sha")
    old = work.save_drawing(bob.id, digit(2), 2, 0.9, "sha")
    challenge = work.start_challenge("fool", digit(2), 2, None, "sha")
    work.record_submission(challenge, ada.id, 0.3, digit(3))
    work.record_submission(challenge, cy.id, 0.2, digit(4))
    month = 31 * 86400
    store.execute("UPDATE students SET last_seen = last_seen - ? WHERE id <> ?", (month, cy.id))
    store.execute("UPDATE drawings SET created = created - ? WHERE id = ?", (month, old))
    store.execute(
        "UPDATE submissions SET created = created - ? WHERE student_id = ?", (month, ada.id)
    )
    assert work.purge() == 1
    assert [d.id for d in work.all_drawings()] == [kept]
    assert [s.nickname for s in work.students()] == ["ada", "cy"]
    assert [name for name, _ in work.leaderboard(challenge)] == ["cy"]


def test_retention_runs_on_a_timer_without_anyone_opening_the_class_view(store):
    work = ClassWork(store)
    ada, _ = work.join("ada")
    old = work.save_drawing(ada.id, digit(1), 1, 0.9, "sha")
    store.execute("UPDATE drawings SET created = created - 40 * 86400 WHERE id = ?", (old,))
    start_retention(store, every_s=0.05)
    try:
        deadline = time.monotonic() + 10
        while work.all_drawings() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert work.all_drawings() == []
        new = work.save_drawing(ada.id, digit(2), 2, 0.9, "sha")  # the timer keeps running
        store.execute("UPDATE drawings SET created = created - 40 * 86400 WHERE id = ?", (new,))
        while work.all_drawings() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert work.all_drawings() == []
    finally:
        stop_retention(store)


def test_a_students_downloads_hold_every_drawing(store, monkeypatch):
    monkeypatch.setattr(quotas, "DRAWINGS_PER_MINUTE", 10_000)  # 2,000 saved in seconds
    work = ClassWork(store)
    ada, _ = work.join("ada")
    saved = [work.save_drawing(ada.id, digit(i), i % 10, 0.9, "sha") for i in range(2000)]
    assert work.count_student_drawings(ada.id) == 2000
    every = work.all_student_drawings(ada.id)
    assert sorted(d.id for d in every) == sorted(saved)
    rows = list(csv.reader(io.StringIO(work.drawings_csv(every).decode())))
    assert len(rows) == 2001


def test_the_teacher_removes_one_student_and_only_their_work(store):
    work = ClassWork(store)
    ada, adas_code = work.join("ada")
    bob, _ = work.join("bob")
    for i in range(3):
        work.save_drawing(ada.id, digit(i), i, 0.9, "sha")
    kept = work.save_drawing(bob.id, digit(7), 7, 0.8, "sha")
    challenge = work.start_challenge("fool", digit(1), 1, None, "sha")
    work.record_submission(challenge, ada.id, 0.5, digit(1))
    work.record_submission(challenge, bob.id, 0.4, digit(1))
    assert work.remove_student(ada.id) == 3
    assert [s.nickname for s in work.students()] == ["bob"]
    assert work.resume(adas_code) is None
    assert [d.id for d in work.all_drawings()] == [kept]
    assert [name for name, _ in work.leaderboard(challenge)] == ["bob"]
    with pytest.raises(ClassError, match="not in this class"):
        work.remove_student(ada.id)
    with pytest.raises(ClassError, match="not in this class"):
        ClassWork(store, "other").remove_student(bob.id)  # another class's student
    assert work.join("ada")[0].nickname == "ada"  # the nickname is free again


def test_a_quota_holds_when_one_student_sends_many_at_once(store):
    """The count and the insert are one step per student: 20 submissions at once, 5 below the
    limit, keep 5 (not every one that counted before another inserted)."""
    from concurrent.futures import ThreadPoolExecutor

    work = ClassWork(store)
    ada, _ = work.join("ada")
    challenge = work.start_challenge("fool", digit(1), 1, None, "sha")
    for _ in range(quotas.SUBMISSIONS_PER_CHALLENGE - 5):
        work.record_submission(challenge, ada.id, 0.5, digit(1))

    def submit(_):
        try:
            ClassWork(store).record_submission(challenge, ada.id, 0.4, digit(1))
            return True
        except ClassError:
            return False

    with ThreadPoolExecutor(20) as pool:
        kept = sum(pool.map(submit, range(20)))
    (count,) = store.one("SELECT COUNT(*) FROM submissions WHERE student_id = ?", (ada.id,))
    assert kept == 5 and int(count) == quotas.SUBMISSIONS_PER_CHALLENGE


def test_the_class_records_load_no_network():
    """Tools that only read and write the class's records (the database benches, retention,
    deploy's launcher) must not pay for TensorFlow: only a challenge's verification needs it."""
    import subprocess
    import sys

    from conftest import ROOT

    probe = "import sys, mnist_viz.classroom.classwork; print('tensorflow' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
