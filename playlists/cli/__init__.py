"""The `tastemaker` command: a thin layer over the public library functions.

Each command parses its options, opens the store, calls one library function and prints.
Library errors (`TastemakerError`) become one `Error: ...` line and exit status 1; a user
mistake never shows a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from recommender.errors import TastemakerError
from recommender.store import DB_ENV, Store, default_db_path


class TastemakerGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TastemakerError as exc:
            raise click.ClickException(str(exc)) from None
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
    """Open the store named by --db / TASTEMAKER_DB; closed when the command ends."""
    store = Store.open(ctx.obj["db_path"])
    ctx.call_on_close(store.close)
    return store


def echo_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def _register() -> None:
    # Imported here so that each command module can import `main`'s helpers above.
    from playlists.cli import data, feedback, library, model, playlist, review, terms, web

    for module in (data, feedback, library, model, playlist, review, terms, web):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
