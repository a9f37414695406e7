"""A PostgreSQL server of the project's own: ``initdb`` and ``pg_ctl`` from Debian's postgresql
on a folder, listening on a local socket only (no TCP), with least privilege:

- the socket's folder and the socket are the cluster owner's alone (0700), so no other user of
  the machine can even knock;
- every connection proves a password (scram-sha-256), the superuser's included;
- the app connects as ``mnistviz``, a role that owns the ``mnistviz`` database and nothing else:
  not a superuser, it cannot create roles or databases (nor read files or run programs).

The two passwords are random, kept in the folder (0600): ``superuser.password`` for upkeep,
``app.password`` for the app's URL.

For the tests and benchmarks (a throwaway cluster in a temporary folder) and for a teacher who
wants the class's records in PostgreSQL on this machine:

    .venv/bin/python deploy/postgres.py data/postgres     # prints MNIST_VIZ_DATABASE_URL

Replicas on several machines need a server they can all reach: see the README ("Replicas on
several machines"); this script does not open PostgreSQL to the network.
"""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

APP_ROLE = "mnistviz"  # the app's role, and its database's name


def binaries() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl`` (on PATH, or Debian's newest version)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


class LocalPostgres:
    """A cluster in ``root`` (created when missing) with database ``mnistviz``; ``url`` is its
    ``MNIST_VIZ_DATABASE_URL``. Started by ``start``, stopped by ``stop`` (or as a context)."""

    def __init__(self, root: Path, port: int | None = None):
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (apt install postgresql)")
        self.root = Path(root).resolve()
        self.data, self.sockets = self.root / "data", self.root / "sockets"
        self.port = port or 20000 + os.getpid() % 20000
        self.user = getpass.getuser()
        self.run_as: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            self.user = "postgres"
            self.run_as = ["runuser", "-u", self.user, "--"]

    @property
    def url(self) -> str:
        """The app's ``MNIST_VIZ_DATABASE_URL``: its own role, with its password."""
        password = self._password("app.password")
        return (
            f"postgresql://{APP_ROLE}:{password}@/{APP_ROLE}?host={self.sockets}&port={self.port}"
        )

    def _password(self, name: str) -> str:
        """A password kept in the folder (created once, random, readable by its owner only)."""
        path = self.root / name
        if not path.is_file():
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(24), encoding="utf-8")
            if self.run_as:
                shutil.chown(path, self.user)
        return path.read_text(encoding="utf-8").strip()

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        environment = {**os.environ, "PGPASSWORD": self._password("superuser.password")}
        subprocess.run(
            [*self.run_as, str(self.bin / tool), *args],
            check=check,
            capture_output=True,
            env=environment,
        )

    def _sql(self, statement: str, database: str = "postgres") -> None:
        self._run(
            "psql",
            "-h",
            str(self.sockets),
            "-p",
            str(self.port),
            "-U",
            self.user,
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            statement,
        )

    def start(self) -> LocalPostgres:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.sockets.mkdir(exist_ok=True, mode=0o700)
        os.chmod(self.root, 0o700)
        os.chmod(self.sockets, 0o700)
        if self.run_as:
            shutil.chown(self.root, self.user)
            shutil.chown(self.sockets, self.user)
        fresh = not (self.data / "PG_VERSION").is_file()
        if fresh:
            self._password("superuser.password")
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                self.user,
                "-A",
                "scram-sha-256",
                f"--pwfile={self.root / 'superuser.password'}",
                "-E",
                "UTF8",
            )
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.sockets}' "
            f"-c unix_socket_permissions=0700 -p {self.port}"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.root / "log"),
            "start",
        )
        if fresh:  # the app's role: its own database, no other power
            password = self._password("app.password")
            self._sql(
                f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                f"NOREPLICATION PASSWORD '{password}'"
            )
            self._sql(f"CREATE DATABASE {APP_ROLE} OWNER {APP_ROLE}")
            self._sql(f"REVOKE ALL ON DATABASE {APP_ROLE} FROM PUBLIC")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "stop", check=False)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where the cluster lives, e.g. data/postgres")
    parser.add_argument("--port", type=int, default=5433, help="its socket's port number")
    args = parser.parse_args(argv)
    server = LocalPostgres(args.folder, args.port).start()
    print(f"MNIST_VIZ_DATABASE_URL='{server.url}'")
    print(f"Stop it with: {server.bin / 'pg_ctl'} -D {server.data} stop")
    return 0


if __name__ == "__main__":
    sys.exit(main())
