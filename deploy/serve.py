"""Start the app's Streamlit server: ``make run``, and each replica of ``make classroom``.

    .venv/bin/python deploy/serve.py [streamlit run options...]

The same as ``streamlit run app.py``, with two differences.

- Because the project has a ``pages/`` folder, a fresh Streamlit server starts in its old
  folder-based multipage mode and stays there until some session has run ``app.py`` (the router,
  ``st.navigation``). A browser that reconnects to such a server (a replica that took over from
  one that died, or a server restarted while tabs were open) would get every file of ``pages/``
  as a page, helpers included, and bypass the router. So the server is told from the start that
  ``pages/`` is not a multipage folder.
- A stop (SIGTERM from an update or a restart, or Ctrl-C) first drains: the server goes on
  serving until every session has been idle for ``QUIET_S`` in a row (at most ``DRAIN_S``), and
  only then closes its sessions. Streamlit's own stop drops what its sessions have been sent but
  not yet run: a label tapped in the instant before a replica's restart was lost with it
  (bench/lesson.py), and the browser, reconnecting to another replica, does not send it again.
  A second signal skips what is left of the drain.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DRAIN_S = 5.0  # an update does not wait longer than this for a busy class
QUIET_S = 0.5  # every session idle this long: the requests sent before the signal have run
POLL_S = 0.05


def _busy(runtime) -> bool:
    """Whether any session has a script run in progress or requested (Streamlit 1.67's
    sessions; if they change shape, nothing counts as busy and the stop is Streamlit's own)."""
    manager = getattr(runtime, "_session_mgr", None)
    if manager is None:
        return False
    # every session, also one whose browser has just gone (its run may still hold a tap)
    for info in manager.list_sessions():
        session = info.session
        if getattr(session, "_scriptrunner", None) is not None:
            return True
        if getattr(getattr(session, "_state", None), "name", "") == "APP_IS_RUNNING":
            return True
    return False


async def drain(runtime, stop, drain_s: float = DRAIN_S, quiet_s: float = QUIET_S) -> float:
    """Wait until no session of ``runtime`` has been busy for ``quiet_s`` (at most ``drain_s``),
    then ``stop()``; the seconds it waited."""
    start = time.monotonic()
    quiet_since = start
    try:
        while time.monotonic() - start < drain_s:
            if _busy(runtime):
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_s:
                break
            await asyncio.sleep(POLL_S)
    finally:  # whatever goes wrong while waiting, the server stops
        stop()
    waited = time.monotonic() - start
    # in the server's log, beside Streamlit's own "Stopping..."
    print(f"Drained for {waited:.1f} s (at most {drain_s:.0f} s)", file=sys.stderr, flush=True)
    return waited


def _set_up_draining_signal_handler(server) -> None:
    """Streamlit's ``bootstrap._set_up_signal_handler``, with a drain before the stop."""
    loop = asyncio.get_running_loop()
    draining: list[asyncio.Task] = []  # the drain's task, kept so it is not collected
    signalled: list[int] = []

    def on_signal(signal_number, frame) -> None:
        signalled.append(signal_number)
        if len(signalled) > 1:  # a second signal: no more waiting (the drain stops the server)
            loop.call_soon_threadsafe(lambda: [task.cancel() for task in draining])
            return
        runtime = getattr(server, "_runtime", None)

        def begin() -> None:
            draining.append(asyncio.ensure_future(drain(runtime, server.stop)))

        loop.call_soon_threadsafe(begin)

    for name in ("SIGTERM", "SIGINT", "SIGQUIT"):
        signal.signal(getattr(signal, name), on_signal)


def main(argv: list[str] | None = None) -> int:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import bootstrap, cli

    PagesManager.uses_pages_directory = False  # pages/ holds the router's pages
    bootstrap._set_up_signal_handler = _set_up_draining_signal_handler
    args = ["run", str(ROOT / "app.py"), *(sys.argv[1:] if argv is None else argv)]
    return cli.main(args, standalone_mode=False) or 0


if __name__ == "__main__":
    sys.exit(main())
