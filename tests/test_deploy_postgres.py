"""deploy/postgres.py gives the app least privilege: a socket only its owner can reach, a
password for everyone (the superuser too), and an app role that owns its database and nothing
else. Checked on a real cluster, and as another user of the machine (``nobody``)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from deploy.postgres import LocalPostgres, binaries

pytestmark = pytest.mark.process  # a PostgreSQL cluster of its own


@pytest.fixture(scope="module")
def server():
    if binaries() is None:
        if os.environ.get("MNIST_VIZ_REQUIRE_DATABASE") == "1":
            pytest.fail("PostgreSQL (initdb, pg_ctl) is required here but missing")
        pytest.skip("PostgreSQL is not installed")
    root = Path(tempfile.mkdtemp(prefix="mnist-viz-least-"))
    cluster = LocalPostgres(root, port=31000 + os.getpid() % 9000).start()
    try:
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def test_the_socket_and_its_folder_are_the_owners_alone(server) -> None:
    assert stat.S_IMODE(server.sockets.stat().st_mode) == 0o700
    assert stat.S_IMODE(server.root.stat().st_mode) == 0o700
    (socket_file,) = server.sockets.glob(".s.PGSQL.*[0-9]")
    assert stat.S_IMODE(socket_file.stat().st_mode) & 0o077 == 0
    for name in ("superuser.password", "app.password"):
        assert stat.S_IMODE((server.root / name).stat().st_mode) == 0o600


def test_the_app_role_owns_its_database_and_has_no_other_power(server) -> None:
    with psycopg.connect(server.url) as db:
        role = db.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls "
            "FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert role == (False, False, False, False, False)
        owner = db.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
        ).fetchone()
        assert owner == (db.info.user,)
        db.execute("CREATE TABLE mine (x INTEGER)")  # its own database: it can build the schema
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            db.execute("COPY mine FROM PROGRAM 'id'")  # a superuser's power: refused


def test_every_connection_needs_its_password(server) -> None:
    without = server.url.replace(":" + server.url.split(":")[2].split("@")[0] + "@", "@")
    assert "@/" in without and without != server.url
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(without, connect_timeout=5)
    superuser = without.replace("mnistviz@", f"{server.user}@", 1)
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(superuser, connect_timeout=5)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_another_user_of_the_machine_cannot_reach_the_server(server) -> None:
    psql = str(server.bin / "psql")
    command = [psql, "-h", str(server.sockets), "-p", str(server.port), "-U", server.user]
    tried = subprocess.run(
        ["runuser", "-u", "nobody", "--", *command, "-c", "SELECT 1"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "PGCONNECT_TIMEOUT": "5"},
        timeout=30,
    )
    assert tried.returncode != 0
    assert "Permission denied" in tried.stderr, tried.stderr
