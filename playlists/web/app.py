"""The workbench application: one Flask app over one store file.

Each request opens its own connection to the store (SQLite in WAL mode; writes are short
transactions with a busy timeout), so the server's threads never share one, and two curators
judging at once both land: verdicts are only ever added, and the newest per subject is in
force (`playlists.review`).

Every response carries a Content-Security-Policy without any script source (so no script runs,
inline or not), forbids framing, and is not cached; pages are server-rendered and need no
script.
"""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
from flask import Flask, g
from werkzeug.wrappers.response import Response

from playlists.report import install, template_loader
from playlists.web import curators, routes
from recommender.store import Store

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# Forms are small: a note, a few fields. Anything larger is refused before it is read.
MAX_REQUEST_BYTES = 64 * 1024


def create_app(
    db_path: str | os.PathLike[str], *, session_hours: float = curators.SESSION_HOURS
) -> Flask:
    """The workbench over the store at `db_path` (its curator tables made when missing)."""
    path = Path(db_path).expanduser().absolute()
    with Store.open(path) as store:
        curators.ensure_schema(store)
    app = Flask(__name__, static_folder="static", template_folder=None)
    app.config.update(
        TASTEMAKER_DB=str(path),
        TASTEMAKER_SESSION_HOURS=session_hours,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        SEND_FILE_MAX_AGE_DEFAULT=0,
    )
    # The same templates, filters and strictness as the static report.
    app.jinja_env.loader = template_loader()
    app.jinja_env.undefined = jinja2.StrictUndefined
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    install(app.jinja_env)
    app.register_blueprint(routes.web)
    app.after_request(_secure)
    app.teardown_appcontext(_close_store)
    return app


def _secure(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = "no-store"
    return response


def _close_store(_exc: BaseException | None) -> None:
    store = g.pop("store", None)
    if store is not None:
        store.close()
