"""The workbench's pages: each route reads its input, calls one library function, renders.

Contract for scripts (kept stable): `POST /login` (form field `token`), `GET /queue`,
`GET /playlists/<id>`, `POST /playlists/<id>/verdicts` (fields `track`, omitted for the whole
playlist; `link`, optional; `verdict`; `note`; `csrf_token`, from the page's form). Added:
`about=reason` judges the track's whole reason; `link=ARTIST` one link of it (as `tastemaker
review --reason/--link`).

Every route but the sign-in form needs a signed-in curator (else 403 with the sign-in form);
every POST but `/login` needs the session's CSRF token (else 403, nothing changed); a POST
whose Origin is another site is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from werkzeug.wrappers.response import Response

from playlists import storage
from playlists.build import build_playlist
from playlists.errors import (
    InvalidPlaylistRequest,
    ReviewError,
    UnknownCurator,
    UnknownPlaylist,
    UnknownPosition,
)
from playlists.report import playlist_page
from playlists.review import in_force, record_verdict
from playlists.storage import Subject, Verdict
from playlists.web import curators, pages
from recommender.catalog import resolve_listener
from recommender.errors import TastemakerError, UnknownListener
from recommender.store import Store

web = Blueprint("web", __name__)

COOKIE = "tastemaker_session"
PUBLIC = {"web.login_form", "web.login", "web.favicon"}
MAX_NOTE = 2000
MAX_LENGTH = 200  # tracks a playlist built from the browser may have
DEFAULT_BUILD_LENGTH = 20
NOT_FOUND = (UnknownPlaylist, UnknownPosition, UnknownListener, UnknownCurator)
Page = tuple[str, int] | Response
N = TypeVar("N", int, float)


@dataclass(frozen=True)
class Notice:
    """A line at the top of a page: what just happened, or what went wrong."""

    text: str
    error: bool = False


def store() -> Store:
    """This request's store (one connection per request, closed when it ends)."""
    if "store" not in g:
        g.store = Store.open(current_app.config["TASTEMAKER_DB"])
    opened: Store = g.store
    return opened


def signed_in() -> curators.SignedIn:
    """The signed-in curator's session (every route but the sign-in form has one)."""
    found: curators.SignedIn = g.signed_in
    return found


def render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    session = g.get("signed_in")
    context.setdefault("notices", [])
    html = render_template(
        template,
        curator=None if session is None else session.curator,
        csrf_token="" if session is None else session.csrf_token,
        **context,
    )
    return html, status


# Who may come in ---------------------------------------------------------------------------


@web.before_request
def require_curator() -> Page | None:
    g.signed_in = curators.session(store(), request.cookies.get(COOKIE))
    if request.method == "POST" and not _same_origin():
        return render("error.html", 403, message="a form from another site is not accepted")
    if request.endpoint in PUBLIC:
        return None
    if g.signed_in is None:
        return _login_page(403, "Sign in with your curator token to see this page.")
    if request.method == "POST" and not signed_in().accepts(request.form.get("csrf_token")):
        return render(
            "error.html",
            403,
            message="this form has no valid CSRF token (it is stale or was sent from "
            "elsewhere); nothing was changed: reload the page and try again",
        )
    return None


def _same_origin() -> bool:
    """False when the browser says the request comes from another site."""
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return False
    origin = request.headers.get("Origin")
    return origin is None or origin == request.host_url.rstrip("/")


def _local(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _login_page(status: int, message: str | None = None) -> tuple[str, int]:
    back = request.full_path if request.method == "GET" else ""
    notices = [Notice(message, error=status != 200)] if message else []
    return render("login.html", status, next=_local(back) or "", notices=notices)


@web.get("/login")
def login_form() -> Page:
    if g.signed_in is not None:
        return redirect(url_for("web.queue"), 303)
    return _login_page(200)


@web.post("/login")
def login() -> Page:
    try:
        session = curators.sign_in(
            store(),
            request.form.get("token", ""),
            hours=current_app.config["TASTEMAKER_SESSION_HOURS"],
        )
    except UnknownCurator as exc:
        return render("login.html", 403, next="", notices=[Notice(str(exc), error=True)])
    response = redirect(_local(request.form.get("next")) or url_for("web.queue"), 303)
    response.set_cookie(
        COOKIE,
        session.session_id,
        max_age=int(current_app.config["TASTEMAKER_SESSION_HOURS"] * 3600),
        httponly=True,
        samesite="Strict",
        secure=request.is_secure,
        path="/",
    )
    return response


@web.get("/favicon.ico")
def favicon() -> Page:
    # Browsers ask for it on every site; there is none, and a 404 would only fill the log.
    return Response(status=204)


@web.post("/logout")
def logout() -> Page:
    curators.sign_out(store(), signed_in().session_id)
    response = redirect(url_for("web.login_form"), 303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict")
    return response


# The queue and the playlists ---------------------------------------------------------------


@web.get("/")
def home() -> Page:
    return redirect(url_for("web.queue"), 303)


@web.get("/queue")
def queue() -> Page:
    chosen = pages.QueueFilter.of(request.args)
    return render(
        "queue.html",
        page=pages.queue_page(store(), chosen),
        kinds=pages.SUBJECTS,
        notices=_recorded_notice(request.args.get("recorded"), request.args.get("of")),
    )


@web.get("/playlists/<playlist_id>")
def playlist(playlist_id: str) -> Page:
    page = playlist_page(store(), playlist_id)
    notices = _recorded_notice(request.args.get("recorded"), request.args.get("of"))
    return render(
        "playlist.html",
        page=page,
        standalone=False,
        verdict_url=url_for("web.verdicts", playlist_id=playlist_id),
        notices=notices,
    )


@web.post("/playlists/<playlist_id>/verdicts")
def verdicts(playlist_id: str) -> Page:
    form = request.form
    position = _position(form.get("track"))
    note = (form.get("note") or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise ReviewError(f"a note has at most {MAX_NOTE} characters; shorten it")
    recorded = record_verdict(
        store(),
        playlist_id,
        form.get("verdict") or "",
        position=position,
        on_reason=form.get("about") == "reason",
        link_from=(form.get("link") or "").strip() or None,
        note=note,
        curator=signed_in().curator.name,
    )
    return redirect(_after(playlist_id, position, recorded), 303)


def _position(value: str | None) -> int | None:
    problem = ReviewError(f"track must be a position (1, 2, ...), got {value!r}")
    return _number(value, int, lambda n: n >= 1, problem)


def _number(
    value: str | None,
    convert: Callable[[str], N],
    valid: Callable[[N], bool],
    problem: TastemakerError,
) -> N | None:
    """A form field as a number (None when left blank); `problem` when it is not one, or not
    a valid one."""
    if value is None or not value.strip():
        return None
    try:
        number = convert(value.strip())
    except ValueError:
        raise problem from None
    if not valid(number):
        raise problem
    return number


def _after(playlist_id: str, position: int | None, recorded: Verdict) -> str:
    """On to the next thing to judge: the next unjudged track of this playlist while it waits
    for review, else the next item in the queue, else the queue itself."""
    recorded_id, of = str(recorded.id), playlist_id
    if position is not None and pages.is_waiting(store(), playlist_id):
        following = _next_unjudged(playlist_id, position)
        return url_for(
            "web.playlist",
            playlist_id=playlist_id,
            recorded=recorded_id,
            of=of,
            _anchor=None if following is None else f"track-{following}",
        )
    target = pages.next_in_queue(store(), playlist_id)
    if target is None:
        return url_for("web.queue", recorded=recorded_id, of=of)
    next_id, next_position = target
    return url_for(
        "web.playlist",
        playlist_id=next_id,
        recorded=recorded_id,
        of=of,
        _anchor=None if next_position is None else f"track-{next_position}",
    )


def _next_unjudged(playlist_id: str, after: int) -> int | None:
    """The first track after `after` with no verdict in force (wrapping to the start)."""
    judged = {v.position for v in in_force(storage.verdicts_for(store(), playlist_id))}
    tracks = storage.playlist_summary(store(), playlist_id).tracks
    open_positions = [p for p in range(1, tracks + 1) if p not in judged]
    later = [p for p in open_positions if p > after]
    if later:
        return later[0]
    return open_positions[0] if open_positions else None


def _recorded_notice(verdict_id: str | None, playlist_id: str | None) -> list[Notice]:
    """ "reject recorded on track 3 by kim" after a verdict, read back from the store."""
    if not verdict_id or not playlist_id:
        return []
    try:
        found = [v for v in storage.verdicts_for(store(), playlist_id) if str(v.id) == verdict_id]
    except UnknownPlaylist:
        return []
    if not found:
        return []
    v = found[0]
    what = "the playlist" if v.position is None else f"track {v.position}"
    if v.subject == Subject.REASON:
        what += "'s reason" if v.link_from is None else "'s link"
    here = (request.view_args or {}).get("playlist_id")
    if here == playlist_id:
        then = ""
    elif here is None:
        then = f" of {playlist_id}; nothing else is waiting in the queue"
    else:
        then = f" of {playlist_id}; on to the next item in the queue"
    return [Notice(f"{v.verdict} recorded on {what}{then} by {v.curator}")]


# Listeners ---------------------------------------------------------------------------------


@web.get("/listeners")
def listeners() -> Page:
    wanted = (request.args.get("name") or "").strip()
    if wanted:
        resolve_listener(store(), wanted, hint="check the name, or open one listed below")
        return redirect(url_for("web.listener", name=wanted), 303)
    return render("listeners.html", rows=pages.listeners_with_playlists(store()))


@web.get("/listeners/<path:name>")
def listener(name: str) -> Page:
    return render("listener.html", page=pages.listener_page(store(), name), form={})


@web.post("/listeners/<path:name>/playlists")
def build(name: str) -> Page:
    form = request.form
    try:
        built = build_playlist(
            store(),
            name,
            length=_length(form.get("length")),
            surprise=_surprise(form.get("surprise")),
            seed_artist=(form.get("seed_artist") or "").strip() or None,
            tag=(form.get("tag") or "").strip() or None,
            save=True,
        )
    except TastemakerError as exc:  # shown above the form, which keeps what was typed
        return render(
            "listener.html",
            400,
            page=pages.listener_page(store(), name),
            form=dict(form),
            notices=[Notice(str(exc), error=True)],
        )
    return redirect(url_for("web.playlist", playlist_id=built.id), 303)


def _length(value: str | None) -> int:
    problem = InvalidPlaylistRequest(
        f"length must be a whole number from 1 to {MAX_LENGTH}, got {value!r}"
    )
    length = _number(value, int, lambda n: 1 <= n <= MAX_LENGTH, problem)
    return DEFAULT_BUILD_LENGTH if length is None else length


def _surprise(value: str | None) -> float | None:
    problem = InvalidPlaylistRequest(f"surprise must be a share from 0 to 1, got {value!r}")
    return _number(value, float, lambda x: 0.0 <= x <= 1.0, problem)


# Errors ------------------------------------------------------------------------------------


@web.app_errorhandler(TastemakerError)
def library_error(exc: TastemakerError) -> Page:
    """A library error as a page with its message (404 for what does not exist)."""
    return render("error.html", 404 if isinstance(exc, NOT_FOUND) else 400, message=str(exc))
