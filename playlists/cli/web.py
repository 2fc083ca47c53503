"""Commands for the curator's workbench: serve (the web app) and curator (who may sign in)."""

from __future__ import annotations

import click

from playlists.cli import echo, echo_json, json_option, open_store
from playlists.web import DEFAULT_HOST, DEFAULT_PORT, curators


@click.command("serve")
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    help="Address to listen on; the default reaches this machine only.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port to listen on (0: any free port, printed at start).",
)
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int) -> None:
    """Serve the curator's workbench: review queue, playlist pages, verdicts, listeners.

    Only curators get in (`tastemaker curator add NAME` prints a token); it binds to 127.0.0.1
    unless --host says otherwise. Stop it with Ctrl-C.
    """
    from playlists.web.server import serve

    store = open_store(ctx)  # opened (and migrated) here, so a bad --db fails before serving
    if store.path is None:
        raise click.UsageError("serve needs a store file: pass --db PATH, not :memory:")
    if not curators.list_curators(store):
        echo("no curators yet: `tastemaker curator add NAME` prints a sign-in token")
    serve(store.path, host, port, announce=echo)


@click.group("curator")
def curator_group() -> None:
    """Who may sign in to `tastemaker serve`: add, list and remove curators."""


@curator_group.command("add")
@click.argument("name")
@click.option(
    "--new-token",
    is_flag=True,
    help="NAME exists: give them a new token instead (their open sessions end).",
)
@click.pass_context
def curator_add(ctx: click.Context, name: str, new_token: bool) -> None:
    """Add curator NAME and print their sign-in token, once: only its hash is stored."""
    added = curators.add_curator(open_store(ctx), name, new_token=new_token)
    echo(f"curator {added.curator.name}: sign-in token (shown only now, keep it safe):")
    echo(added.token)


@curator_group.command("list")
@json_option
@click.pass_context
def curator_list(ctx: click.Context, as_json: bool) -> None:
    """List the curators: name, when added, last sign-in, open sessions."""
    found = curators.list_curators(open_store(ctx))
    if as_json:
        echo_json([c.__dict__ for c in found])
        return
    if not found:
        echo("no curators yet: `tastemaker curator add NAME`")
    for c in found:
        seen = c.signed_in_at or "never signed in"
        echo(f"{c.name}  added {c.created_at}  last sign-in {seen}  sessions {c.sessions}")


@curator_group.command("remove")
@click.argument("name")
@click.pass_context
def curator_remove(ctx: click.Context, name: str) -> None:
    """Remove curator NAME and end their sessions; their verdicts stay, under their name."""
    removed = curators.remove_curator(open_store(ctx), name)
    echo(f"curator {removed.name} removed; their verdicts stay in the history")


COMMANDS = [serve_command, curator_group]
