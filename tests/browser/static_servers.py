"""Static web servers with their stock settings, run in the foreground on free local ports.

Each context manager serves a folder on 127.0.0.1 and yields the base URL; the process belongs to
the test and ends with it. None of them sends COOP/COEP headers: that is the point.

* :func:`http_server`: ``python -m http.server`` as it is;
* :func:`nginx`: Debian's nginx with the ``http`` settings of its stock ``/etc/nginx/nginx.conf``
  (``include /etc/nginx/mime.types``, ``default_type application/octet-stream``, ``gzip on``) and
  its default site's ``try_files``, in a temporary prefix, not as a daemon;
* :func:`caddy`: Caddy's ``file_server`` with its built-in MIME table, admin API off.

:func:`site_at` lays a built site out below a sub-path (hard links, no copy of the bytes), as
GitHub project pages serve ``https://USER.github.io/PROJECT/``.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

NGINX = Path("/usr/sbin/nginx")
NGINX_MIME_TYPES = Path("/etc/nginx/mime.types")
CADDY = Path("/usr/bin/caddy")
START_TIMEOUT_S = 20


def site_at(site: Path, parent: Path, sub_path: str) -> Path:
    """Hard-link ``site`` to ``parent/sub_path`` (``""``: the parent is the site); return parent."""
    target = parent / sub_path if sub_path else parent
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(site, target, copy_function=os.link)
    return parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port} within {START_TIMEOUT_S} s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


class AccessLog(list):
    """Lines a server logged, collected by a thread while it runs."""

    def follow(self, stream) -> threading.Thread:
        def read() -> None:
            self.extend(iter(stream.readline, ""))

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        return thread

    def requests(self, status: int) -> list[str]:
        """Paths requested with GET that were answered ``status``."""
        found = (re.search(r'"GET (\S+) HTTP/[\d.]+" (\d{3})', line) for line in list(self))
        return [m.group(1) for m in found if m and int(m.group(2)) == status]


@contextmanager
def http_server(root: Path) -> Iterator[tuple[str, AccessLog]]:
    """``python -m http.server`` on a free port; yield its base URL and its access log."""
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
         "--directory", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        match = re.search(r"port (\d+)", proc.stdout.readline())
        if match is None:
            raise RuntimeError(f"http.server did not start: {proc.stderr.read()}")
        log = AccessLog()
        reader = log.follow(proc.stderr)
        yield f"http://127.0.0.1:{match.group(1)}/", log
    finally:
        proc.terminate()
        if "reader" in locals():
            reader.join(timeout=10)  # reads to the end of the log once the server is gone
        _stop(proc)


NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
{user}
events {{ worker_connections 768; }}
http {{
    # As Debian's stock /etc/nginx/nginx.conf has them:
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include {mime_types};
    default_type application/octet-stream;
    gzip on;
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;
        # As Debian's default site, plus the one line a host needs for a site's own 404 page:
        location / {{ try_files $uri $uri/ =404; }}
        error_page 404 {error_page};
    }}
}}
"""


@contextmanager
def nginx(root: Path, tmp: Path, *, error_page: str = "/404.html") -> Iterator[str]:
    """Debian's nginx with its stock MIME table serving ``root``; yield its base URL.

    ``error_page`` is the URL path of the site's 404 page (``/PROJECT/404.html`` at a sub-path).
    """
    if not NGINX.exists():
        raise RuntimeError(f"{NGINX} is missing: run `make setup-web` (apt-get install nginx)")
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    # As root, nginx would hand the work to "nobody", who cannot read pytest's private folders.
    user = ""
    if os.geteuid() == 0:
        user = f"user {pwd.getpwuid(0).pw_name} {grp.getgrgid(os.getegid()).gr_name};"
    conf = tmp / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            tmp=tmp, user=user, port=port, root=root, mime_types=NGINX_MIME_TYPES,
            error_page=error_page,
        )
    )  # fmt: skip
    proc = subprocess.Popen(
        [str(NGINX), "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(conf)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_port(port, proc, "nginx")
        yield f"http://127.0.0.1:{port}/"
    finally:
        _stop(proc)


@contextmanager
def caddy(root: Path, tmp: Path) -> Iterator[str]:
    """Caddy's static file server (its own MIME table, no compression) serving ``root``."""
    if not CADDY.exists():
        raise RuntimeError(f"{CADDY} is missing: run `make setup-web` (apt-get install caddy)")
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = tmp / "Caddyfile"
    conf.write_text(
        f"{{\n\tadmin off\n}}\nhttp://127.0.0.1:{port} {{\n\troot * {root}\n\tfile_server\n}}\n"
    )
    env = {**os.environ, "XDG_DATA_HOME": str(tmp / "data"), "XDG_CONFIG_HOME": str(tmp / "cfg")}
    proc = subprocess.Popen(
        [str(CADDY), "run", "--config", str(conf), "--adapter", "caddyfile"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        _wait_for_port(port, proc, "caddy")
        yield f"http://127.0.0.1:{port}/"
    finally:
        _stop(proc)
