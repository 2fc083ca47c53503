"""The `tastemaker` command: a thin layer over the public library functions.

Each command parses its options, opens the store, calls one library function and prints.
Library errors (`TastemakerError`) become one `Error: ...` line and exit status 1; a user
mistake never shows a traceback.

Everything a command prints goes through `echo` (and `echo_json`), which writes control
characters and bidi controls out as `\\uXXXX` escapes: names come from files anyone can write,
and an ESC, a BEL or a U+202E in one must not act on the listener's terminal.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from playlists.written import SavedFile
from recommender.errors import TastemakerError
from recommender.names import visible_controls
from recommender.store import DB_ENV, Store, default_db_path


class TastemakerGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TastemakerError as exc:
            raise click.ClickException(visible_controls(str(exc))) from None
        except BrokenPipeError:
            sys.stderr.close()
            return None


@click.group(cls=TastemakerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=DB_ENV,
    default=None,
    help=f"The store file (default: ${DB_ENV}, else {default_db_path()}).",
)
@click.version_option(package_name="tastemaker")
@click.pass_context
def main(ctx: click.Context, db_path: Path | None) -> None:
    """tastemaker: explainable playlists from your own listening."""
    ctx.obj = {"db_path": db_path}


def open_store(ctx: click.Context) -> Store:
    """Open the store named by --db / TASTEMAKER_DB; closed when the command ends. A write
    that waits for another process says so on stderr."""
    store = Store.open(ctx.obj["db_path"], on_wait=lambda message: click.echo(message, err=True))
    ctx.call_on_close(store.close)
    return store


def echo(text: str = "", *, nl: bool = True, err: bool = False) -> None:
    """Print `text` with its control and bidi control characters escaped (newlines kept)."""
    click.echo(visible_controls(text, keep="\n"), nl=nl, err=err)


def echo_note(saved: SavedFile) -> None:
    """Say so when the store could not remember a file written for a listener."""
    if saved.note:
        echo(f"note: {saved.note}", err=True)


def echo_json(value: object) -> None:
    """Print `value` as JSON; the escapes `echo` adds are JSON's own, so the JSON is unchanged."""
    echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
engine_option = click.option(
    "--engine",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="Where the aggregation stages run: this process, or Apache Spark.",
)
master_option = click.option(
    "--master",
    default=None,
    metavar="URL",
    help="With --engine spark: the Spark master (default: $SPARK_MASTER, else local[*]).",
)


def _register() -> None:
    # Imported here so that each command module can import `main`'s helpers above.
    from playlists.cli import data, feedback, library, model, playlist, review, terms, web

    for module in (data, feedback, library, model, playlist, review, terms, web):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
