"""A small client of the workbench's script contract, and a way to run the server in a child
process: what the tests, the benchmark and curators' own scripts use.

Contract: `POST /login` (field `token`), `GET /queue`, `GET /playlists/<id>`,
`POST /playlists/<id>/verdicts` (fields `track`, `link`, `verdict`, `note`, `csrf_token`).
The client keeps the session cookie, and the CSRF token of the last page it read.
Standard library only (http.client), so a script needs nothing beyond tastemaker.
"""

from __future__ import annotations

import http.client
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlencode, urlsplit

from playlists.errors import PlaylistError

_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
_LISTENING = re.compile(r"listening on (http://\S+?)/?$")
COOKIE = "tastemaker_session"


class WorkbenchUnavailable(PlaylistError):
    """The workbench server did not start, or refused what a script asked."""


@dataclass(frozen=True)
class Reply:
    """One response: status, headers (names in lower case) and body text."""

    status: int
    headers: Mapping[str, str]
    text: str

    @property
    def location(self) -> str | None:
        return self.headers.get("location")


class WorkbenchClient:
    """Requests to one workbench, as one curator (after `sign_in`)."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise WorkbenchUnavailable(f"not a workbench address: {base_url!r} (http://HOST:PORT)")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.timeout = timeout
        self.session: str | None = None
        self.csrf_token: str | None = None

    def request(
        self,
        method: str,
        path: str,
        form: Mapping[str, str | int] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        with_session: bool = True,
    ) -> Reply:
        """One request; the session cookie goes along unless `with_session` is False."""
        sent = dict(headers or {})
        if self.session and with_session:
            sent["Cookie"] = f"{COOKIE}={self.session}"
        body = None
        if form is not None:
            body = urlencode({k: str(v) for k, v in form.items()})
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            text = response.read().decode("utf-8", errors="replace")
            found = {k.lower(): v for k, v in response.getheaders()}
            cookies = response.headers.get_all("Set-Cookie") or []
        finally:
            conn.close()
        for cookie in cookies:
            name, _, rest = cookie.partition("=")
            if name.strip() == COOKIE:
                value = rest.split(";", 1)[0]
                self.session = value or None
        return Reply(response.status, found, text)

    def sign_in(self, token: str) -> Reply:
        reply = self.request("POST", "/login", {"token": token})
        if reply.status != 303 or not self.session:
            raise WorkbenchUnavailable(f"sign-in refused ({reply.status}): check the token")
        return reply

    def page(self, path: str) -> Reply:
        """GET `path`, keeping the CSRF token of its forms for the next post."""
        reply = self.request("GET", path)
        found = _CSRF.search(reply.text)
        if found:
            self.csrf_token = found.group(1)
        return reply

    def post_verdict(
        self,
        playlist_id: str,
        verdict: str,
        *,
        track: int | None = None,
        link: str | None = None,
        about: str | None = None,
        note: str | None = None,
        csrf_token: str | None = None,
    ) -> Reply:
        """Record a verdict as the signed-in curator (the CSRF token of the last page read,
        unless one is given)."""
        form: dict[str, str | int] = {"verdict": verdict, "note": note or ""}
        form["csrf_token"] = csrf_token if csrf_token is not None else self.csrf_token or ""
        if track is not None:
            form["track"] = track
        if link is not None:
            form["link"] = link
        if about is not None:
            form["about"] = about
        return self.request("POST", f"/playlists/{playlist_id}/verdicts", form)


@dataclass(frozen=True)
class Served:
    """A workbench running in a child process, and what it printed when it started."""

    url: str
    pid: int
    announced: tuple[str, ...]


@contextmanager
def served(db_path: str | os.PathLike[str], *, start_timeout: float = 60.0) -> Iterator[Served]:
    """Run `tastemaker --db DB serve --port 0` in a child process until the block ends."""
    command = [sys.executable, "-m", "playlists", "--db", str(Path(db_path)), "serve"]
    child = subprocess.Popen(
        [*command, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url, announced = _wait_for_url(child, start_timeout)
        yield Served(url, child.pid, announced)
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()


def _wait_for_url(child: subprocess.Popen[str], timeout: float) -> tuple[str, tuple[str, ...]]:
    """The URL the child announces, and the lines before it. A thread reads the child's
    output all along (into a queue until the URL, then away), so it never blocks on a pipe."""
    out = child.stdout
    if out is None:
        raise WorkbenchUnavailable("the workbench's output cannot be read")
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read_lines, args=(out, lines), daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            line = None
        if line is None:
            raise WorkbenchUnavailable(
                "the workbench did not start: " + (" | ".join(seen) or "no output")
            )
        seen.append(line.strip())
        found = _LISTENING.search(line.strip())
        if found:
            return found.group(1), tuple(seen)


def _read_lines(out: IO[str], lines: queue.Queue[str | None]) -> None:
    try:
        for line in out:
            lines.put(line)
    except (OSError, ValueError):  # closed when the child is stopped
        pass
    lines.put(None)
