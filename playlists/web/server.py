"""`serve`: the workbench on a real WSGI server (waitress), bound to localhost by default."""

from __future__ import annotations

import os
from collections.abc import Callable

from waitress import create_server

from playlists.web import DEFAULT_HOST, DEFAULT_PORT
from playlists.web.app import create_app

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
THREADS = 4


def serve(
    db_path: str | os.PathLike[str],
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    threads: int = THREADS,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve the workbench until interrupted; `announce` is told where it listens first.

    Port 0 takes any free port (the announcement names the one taken).
    """
    server = create_server(create_app(db_path), host=host, port=port, threads=threads)
    bound = getattr(server, "effective_port", port)
    shown = f"[{host}]" if ":" in host else host
    if host in LOCAL_HOSTS:
        announce(f"bound to {host} only: reachable from this machine; --host says otherwise")
    else:
        announce(
            f"bound to {host}: reachable from other machines, over plain HTTP; "
            "sign-in tokens and session cookies cross the network unencrypted"
        )
    # The last line of the announcement: scripts (playlists.web.client) wait for it.
    announce(f"tastemaker workbench: listening on http://{shown}:{bound}/")
    announce("sign in with a curator token (`tastemaker curator add NAME`); Ctrl-C stops it")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
