"""A PostgreSQL server of the project's own: ``initdb`` and ``pg_ctl`` from Debian's postgresql
on a folder, listening on a local socket only (no TCP), trusting the local user.

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
import shutil
import subprocess
import sys
from pathlib import Path


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
        return f"postgresql://{self.user}@/mnistviz?host={self.sockets}&port={self.port}"

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        subprocess.run(
            [*self.run_as, str(self.bin / tool), *args], check=check, capture_output=True
        )

    def start(self) -> LocalPostgres:
        self.root.mkdir(parents=True, exist_ok=True)
        self.sockets.mkdir(exist_ok=True)
        if self.run_as:
            shutil.chown(self.root, self.user)
            shutil.chown(self.sockets, self.user)
        fresh = not (self.data / "PG_VERSION").is_file()
        if fresh:
            self._run("initdb", "-D", str(self.data), "-U", self.user, "-A", "trust", "-E", "UTF8")
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.sockets}' -p {self.port}"
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
        if fresh:
            self._run(
                "createdb",
                "-h",
                str(self.sockets),
                "-p",
                str(self.port),
                "-U",
                self.user,
                "mnistviz",
            )
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
