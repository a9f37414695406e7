"""Print a one-time sign-in link for the teacher, valid for 10 minutes and for one use.

    .venv/bin/python deploy/teacher_link.py [--url https://class.school.example]   # or: make teacher-link

For a teacher who cannot sign in with the password on a new browser (students behind the
school's address guessed it wrong so often that the address waits). Run it on the server: the
link's token goes into the sign-in ledger of this machine's data folder (shared by its replicas),
and the app removes it from the page's address as soon as it is used.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mnist_viz.classroom.access import LEDGER_NAME, LINK_SECONDS, FailureLedger  # noqa: E402
from mnist_viz.core.folders import data_dir  # noqa: E402

LINK_PARAM = "teacher"  # the app's ui/teacher.py reads it


def teacher_link(url: str, ledger_path: Path | None = None) -> str:
    """A fresh one-time link to ``url``."""
    ledger = FailureLedger(ledger_path or data_dir() / LEDGER_NAME)
    return f"{url.rstrip('/')}/?{LINK_PARAM}={ledger.issue_link()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8501", help="the address of the app")
    args = parser.parse_args(argv)
    print(teacher_link(args.url))
    print(f"Valid for {LINK_SECONDS / 60:.0f} minutes, for one use.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
