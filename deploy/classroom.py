"""Serve mnist-viz to a class: one Streamlit server, or N replicas behind nginx on one address.

    .venv/bin/python deploy/classroom.py --replicas 2 --port 8501   # or: make classroom

Replicas listen on 127.0.0.1 only, on the ports after ``--port``; nginx (Debian's package) listens
on ``--port`` and keeps each browser on one replica (see ``nginx.conf.template``). All replicas
share one models/ folder: the first to need a model trains it under the cache's file lock and the
others wait for it, and a teacher's retrain on one replica is picked up by every replica on its
next page run. They share one cookie secret, so a browser's XSRF token is valid on any of them.

``Classroom`` is also what ``bench/classroom.py`` starts, to measure exactly this setup.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mnist_viz.classroom.access import password_setting  # noqa: E402
from mnist_viz.classroom.pushes import PUSH_ASK_ENV_VAR  # noqa: E402

TEMPLATE = Path(__file__).with_name("nginx.conf.template")
START_TIMEOUT_S = 120
MAX_UPLOAD_MB = 20  # the app's own limit (server.maxUploadSize in .streamlit/config.toml)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CONNECTIONS_PER_ADDRESS = 200  # a class of 30 behind one address needs about 40
REQUESTS_PER_SECOND, REQUEST_BURST = 50, 400  # page loads of a whole class at once fit
# Pages ask for the latest push four times a second behind nginx: 60 students behind one
# address (a school's) fit, with room for a burst.
PUSH_REQUESTS_PER_SECOND, PUSH_REQUEST_BURST = 300, 600
PUSH_ASK_BEHIND_NGINX_MS = 250  # nginx serves the file: asking costs the replicas nothing
UNPRIVILEGED = ("nobody", "nogroup")  # nginx's workers, when it is started as root


# Sent with every answer (each location repeats them: a location's add_header replaces the
# server's). The page address carries a student's resume code, so no Referer leaves the site;
# only this site may frame its pages (the drawing pad is a frame of the site itself).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000"  # only over TLS


def closed_to_others(path: Path) -> Path | None:
    """The first folder on the way to ``path`` that other users may not pass through (no
    ``o+x``), or None. Started as root, nginx's workers run as ``nobody``: under such a folder
    (a checkout in a private home folder, a ``mktemp -d``) they cannot read the push file."""
    for folder in [*reversed(path.resolve().parents), path.resolve()]:
        try:
            if not folder.stat().st_mode & 0o001:
                return folder
        except OSError:
            return folder
    return None


def nginx_reads_static() -> bool:
    """Whether nginx's workers can serve the push file themselves (else the replicas do)."""
    return os.geteuid() != 0 or closed_to_others(ROOT / "static") is None


def static_warning() -> str | None:
    """What to tell the teacher when nginx's workers cannot read the push file."""
    if nginx_reads_static():
        return None
    folder = closed_to_others(ROOT / "static")
    return (
        f"nginx's workers (user {UNPRIVILEGED[0]}) cannot pass through {folder}, so the replicas "
        "serve the push file that every page asks for (it costs them a request per page, and "
        f"pages ask half as often). `chmod o+x {folder}` lets nginx serve it."
    )


def security_headers(tls: bool) -> str:
    """The add_header lines of every location."""
    headers = SECURITY_HEADERS | ({"Strict-Transport-Security": HSTS} if tls else {})
    return "\n".join(f'            add_header {k} "{v}" always;' for k, v in headers.items())


def default_server(listen: str, tls_lines: str) -> str:
    """A server for every Host the class does not use: it closes the connection without an
    answer (444), so the app is not served under a name an attacker points at this machine (DNS
    rebinding). Over TLS it shows the same certificate first: a browser that dials the machine's
    address sends no name in the handshake, and its Host header decides."""
    tls = f"{tls_lines}\n" if tls_lines else ""
    return (
        f"    server {{\n        listen {listen} default_server;\n"
        f"        server_name _;\n{tls}        return 444;\n    }}"
    )


def replica_routing(replica_ports: list[int]) -> tuple[str, str, str, str]:
    """The template's routing parts: an upstream per replica (``r0``, ``r1``, ...) whose backups
    are the others, in turn; the split of new browsers among them; the cookie value that picks
    each; and the cookie value of each replica's address (see nginx.conf.template)."""
    names = [f"r{i}" for i in range(len(replica_ports))]
    upstreams, pools, by_cookie, served = [], [], [], []
    for i, (name, port) in enumerate(zip(names, replica_ports, strict=True)):
        others = replica_ports[i + 1 :] + replica_ports[:i]
        servers = [f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;"]
        servers += [f"        server 127.0.0.1:{other} backup;" for other in others]
        upstreams.append(f"    upstream replica_{name} {{\n" + "\n".join(servers) + "\n    }")
        share = "*" if i == len(names) - 1 else f"{100 / len(names):.2f}%"
        pools.append(f"        {share} replica_{name};")
        by_cookie.append(f'        "{name}" replica_{name};')
        served.append(f'        "~(^|[ ,])127\\.0\\.0\\.1:{port}$" {name};')
    return "\n".join(upstreams), "\n".join(pools), "\n".join(by_cookie), "\n".join(served)


def nginx_config(
    listen: str,
    replica_ports: list[int],
    prefix: Path,
    tls: tuple[Path, Path] | None = None,
    hosts: list[str] | None = None,
) -> str:
    """The nginx configuration for these replicas (see nginx.conf.template); ``tls``: the
    certificate and key files, to serve HTTPS on ``listen``; ``hosts``: the names students
    type (then any other Host is refused; the machine's own 127.0.0.1 and localhost stay)."""
    upstreams, pools, pool_by_cookie, served_by = replica_routing(replica_ports)
    # Started as root, nginx runs its workers as an unprivileged user (who must be able to
    # write the temporary folders: see Classroom.start).
    user = f"user {UNPRIVILEGED[0]} {UNPRIVILEGED[1]};" if os.geteuid() == 0 else ""
    tls_lines = ""
    if tls is not None:
        certificate, key = tls
        listen = f"{listen} ssl"
        tls_lines = (
            f"        ssl_certificate {certificate};\n"
            f"        ssl_certificate_key {key};\n"
            "        ssl_protocols TLSv1.2 TLSv1.3;"
        )
    names = " ".join([*hosts, "127.0.0.1", "localhost"]) if hosts else '""'
    text = TEMPLATE.read_text(encoding="utf-8")
    for key, value in {
        "{security_headers}": security_headers(tls is not None),
        "{default_server}": default_server(listen, tls_lines) if hosts else "",
        "{server_names}": names,
        "{user}": user,
        "{prefix}": str(prefix),
        "{listen}": listen,
        "{tls}": tls_lines,
        "{cookie_secure}": "; Secure" if tls is not None else "",
        "{upstreams}": upstreams,
        "{new_pools}": pools,
        "{pool_by_cookie}": pool_by_cookie,
        "{served_by}": served_by,
        "{max_upload_mb}": str(MAX_UPLOAD_MB),
        "{connections_per_address}": str(CONNECTIONS_PER_ADDRESS),
        "{requests_per_second}": str(REQUESTS_PER_SECOND),
        "{request_burst}": str(REQUEST_BURST),
        "{push_requests_per_second}": str(PUSH_REQUESTS_PER_SECOND),
        "{push_request_burst}": str(PUSH_REQUEST_BURST),
        "{static}": str(ROOT / "static"),
    }.items():
        text = text.replace(key, value)
    return text


def _wait_healthy(url: str, procs: list[subprocess.Popen], logs: list[Path]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    # our own server on this machine: a self-signed certificate is expected
    context = ssl._create_unverified_context() if url.startswith("https") else None
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2, context=context) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        dead = [i for i, p in enumerate(procs) if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            log = logs[dead[0]] if dead else logs[0]
            raise RuntimeError(
                f"{url} did not start; log {log}:\n{log.read_text(errors='replace')}"
            )
        time.sleep(0.3)


def process_ticks(pid: int) -> int:
    """User + system CPU clock ticks of process ``pid`` so far, from /proc (OSError: gone)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


class Classroom:
    """Start the app (``replicas=0``: one server; ``N``: N replicas and nginx) and stop it on exit.

    ``cores`` pins every server process (taskset list, e.g. "0"); ``port=None`` picks a free one.
    """

    def __init__(
        self,
        replicas: int = 0,
        port: int | None = None,
        cores: str | None = None,
        env: dict | None = None,
        python: str = sys.executable,
        tls: tuple[Path, Path] | None = None,
        hosts: list[str] | None = None,
        listen: str = "127.0.0.1",
    ):
        self.replicas = replicas
        self.port = port or free_port()
        self.cores = cores
        self.env = os.environ | (env or {})
        self.python = python
        self.tls = tls
        self.hosts = hosts or []  # the names students type: Streamlit accepts only these
        self.listen = listen
        self.workdir = Path(tempfile.mkdtemp(prefix="mnist-viz-classroom-"))
        self.servers: list[subprocess.Popen] = []
        self.replica_ports: list[int] = []  # each server's own port, in the order of servers
        self.nginx: subprocess.Popen | None = None
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"

    def _pinned(self, command: list[str]) -> list[str]:
        return ["taskset", "-c", self.cores, *command] if self.cores else command

    def _start_server(self, port: int, cookie_secret: str) -> tuple[subprocess.Popen, Path]:
        log = self.workdir / f"streamlit-{port}.log"
        command = [
            self.python,
            str(ROOT / "deploy" / "serve.py"),
            "--server.address=127.0.0.1",
            f"--server.port={port}",
            "--server.headless=true",
        ]
        if self.hosts:  # against DNS rebinding: only the names the class uses, and this machine
            for host in [*self.hosts, "127.0.0.1", "localhost"]:
                command.append(f"--server.allowedHosts={host}")
        # Streamlit takes the secret only from its config file or the environment.
        env = self.env | {"STREAMLIT_SERVER_COOKIE_SECRET": cookie_secret}
        if self.replicas and nginx_reads_static():  # nginx serves the push file itself
            env.setdefault(PUSH_ASK_ENV_VAR, str(PUSH_ASK_BEHIND_NGINX_MS))
        with open(log, "wb") as out:
            # Its own process group: stopping the class stops its training children too.
            proc = subprocess.Popen(
                self._pinned(command),
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return proc, log

    def __enter__(self) -> Classroom:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        cookie_secret = self.cookie_secret = secrets.token_hex(32)
        ports = [self.port] if self.replicas == 0 else [free_port() for _ in range(self.replicas)]
        self.replica_ports = ports
        started = [self._start_server(p, cookie_secret) for p in ports]
        self.servers = [proc for proc, _ in started]
        logs = [log for _, log in started]
        for port in ports:
            _wait_healthy(f"http://127.0.0.1:{port}", self.servers, logs)
        if self.replicas:
            nginx = shutil.which("nginx") or "/usr/sbin/nginx"
            for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
                (self.workdir / sub).mkdir(exist_ok=True)
                if os.geteuid() == 0:  # nginx's unprivileged workers write here
                    shutil.chown(self.workdir / sub, *UNPRIVILEGED)
            self.workdir.chmod(0o711)  # they may pass through, not list
            conf = self.workdir / "nginx.conf"
            conf.write_text(
                nginx_config(
                    f"{self.listen}:{self.port}", ports, self.workdir, self.tls, self.hosts
                )
            )
            command = [nginx, "-p", str(self.workdir), "-c", str(conf), "-g", "daemon off;"]
            log = self.workdir / "nginx.out"
            with open(log, "wb") as out:
                self.nginx = subprocess.Popen(
                    self._pinned(command), stdout=out, stderr=subprocess.STDOUT
                )
            _wait_healthy(self.url, [self.nginx], [log])

    def restart(self, index: int) -> None:
        """Restart replica ``index`` as an update would: stopped (SIGTERM), then started again
        on its port; its students reconnect through nginx meanwhile."""
        self.stop_replica(index)
        self.start_replica(index)

    def stop_replica(self, index: int) -> None:
        """Stop replica ``index`` (SIGTERM, then SIGKILL after 20 s)."""
        proc = self.servers[index]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def start_replica(self, index: int) -> None:
        """Start replica ``index`` again on its port, and wait until it answers."""
        port = self.replica_ports[index]
        self.servers[index], log = self._start_server(port, self.cookie_secret)
        _wait_healthy(f"http://127.0.0.1:{port}", [self.servers[index]], [log])

    def stop(self) -> None:
        """Stop nginx and every server, with whatever they started (trainings in progress)."""
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGTERM)
        for proc in self.servers:  # each leads its own process group (see _start_server)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in [*([self.nginx] if self.nginx else []), *self.servers]:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for proc in self.servers:  # a training child may still be finishing a batch
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

    # -- what the servers cost -------------------------------------------------------------

    def cpu_seconds(self) -> float:
        """User + system CPU of every Streamlit server so far (nginx is not counted)."""
        return sum(process_ticks(proc.pid) for proc in self.servers) / os.sysconf("SC_CLK_TCK")

    def _status_mb(self, field: str) -> list[float]:
        out = []
        for proc in self.servers:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    out.append(round(int(line.split()[1]) / 1024, 1))
        return out

    def peak_rss_mb(self) -> list[float]:
        """Each server's peak resident memory so far (VmHWM), in MB."""
        return self._status_mb("VmHWM")

    def rss_mb(self) -> list[float]:
        """Each server's resident memory now (VmRSS), in MB."""
        return self._status_mb("VmRSS")


def listen_warning(listen: str, tls: bool) -> str | None:
    """What to tell the teacher who serves beyond this machine without TLS."""
    if tls or listen in ("127.0.0.1", "localhost", "::1"):
        return None
    return (
        f"listening on {listen} without TLS: on the school's network, anyone between a student "
        "and this machine can read the teacher's password and the students' resume codes. "
        "Give --tls-cert and --tls-key (see the README)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=2, help="0: one server without nginx")
    parser.add_argument("--port", type=int, default=8501, help="the address students open")
    parser.add_argument(
        "--listen",
        default="127.0.0.1",
        help="the address nginx listens on (0.0.0.0: every network of this machine)",
    )
    parser.add_argument("--host", action="append", default=[], help="a name students type")
    parser.add_argument("--tls-cert", type=Path, help="certificate file: serve HTTPS")
    parser.add_argument("--tls-key", type=Path, help="its private key file")
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if warning := listen_warning(args.listen, bool(args.tls_cert)):
        print(f"Warning: {warning}", file=sys.stderr)
    if args.replicas and (warning := static_warning()):
        print(f"Warning: {warning}", file=sys.stderr)
    setting = password_setting(None)
    if setting.problem:
        print(f"Warning: {setting.problem}.", file=sys.stderr)
    tls = (args.tls_cert.resolve(), args.tls_key.resolve()) if args.tls_cert else None
    with Classroom(
        replicas=args.replicas, port=args.port, tls=tls, hosts=args.host, listen=args.listen
    ) as classroom:
        print(f"mnist-viz is being served at {classroom.url}", flush=True)
        print(f"({max(1, args.replicas)} server(s); logs in {classroom.workdir}). Ctrl-C stops.")
        # Blocked only now: the servers, started above, must not inherit a blocked SIGTERM.
        stop = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, stop)
        signal.sigwait(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
