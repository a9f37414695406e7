"""Set the teacher password in ``.streamlit/secrets.toml``, readable by you only.

    .venv/bin/python deploy/teacher_password.py        # or: make teacher-password

Asks twice without echoing, refuses a password shorter than 12 characters (the app would switch
teacher controls off), keeps the file's other lines, and writes it with mode 0600.
"""

from __future__ import annotations

import getpass
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mnist_viz.classroom.access import MIN_PASSWORD_CHARS, PASSWORD_SECRET  # noqa: E402

SECRETS = ROOT / ".streamlit" / "secrets.toml"


def write_password(password: str, path: Path = SECRETS) -> None:
    """Put ``password`` in the secrets file at ``path`` (mode 0600), keeping its other lines."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    if "\n" in password:
        raise ValueError("the password cannot span lines")
    kept = []
    if path.exists():
        line = re.compile(rf"^\s*{PASSWORD_SECRET}\s*=")
        kept = [x for x in path.read_text(encoding="utf-8").splitlines() if not line.match(x)]
    quoted = password.replace("\\", "\\\\").replace('"', '\\"')
    text = "\n".join([f'{PASSWORD_SECRET} = "{quoted}"', *kept]) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 from the start: no moment when others could read it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)  # an older file may have been readable


def main() -> int:
    first = getpass.getpass(f"Teacher password (at least {MIN_PASSWORD_CHARS} characters): ")
    if getpass.getpass("Again: ") != first:
        print("The two passwords differ; nothing was written.", file=sys.stderr)
        return 1
    try:
        write_password(first)
    except ValueError as exc:
        print(f"{exc}; nothing was written.", file=sys.stderr)
        return 1
    print(f"Written to {SECRETS} (readable by you only). Restart the app to use it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
