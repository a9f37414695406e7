"""Start the app's Streamlit server: ``make run``, and each replica of ``make classroom``.

    .venv/bin/python deploy/serve.py [streamlit run options...]

The same as ``streamlit run app.py``, with one difference. Because the project has a ``pages/``
folder, a fresh Streamlit server starts in its old folder-based multipage mode and stays there
until some session has run ``app.py`` (the router, ``st.navigation``). A browser that reconnects
to such a server (a replica that took over from one that died, or a server restarted while tabs
were open) would get every file of ``pages/`` as a page, helpers included, and bypass the router.
So the server is told from the start that ``pages/`` is not a multipage folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False  # pages/ holds the router's pages
    args = ["run", str(ROOT / "app.py"), *(sys.argv[1:] if argv is None else argv)]
    return cli.main(args, standalone_mode=False) or 0


if __name__ == "__main__":
    sys.exit(main())
