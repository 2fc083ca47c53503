"""Commands for the listener's music folder: library add, rescan, remove, status."""

from __future__ import annotations

from pathlib import Path

import click

from playlists.cli import echo, echo_json, json_option, open_store
from recommender.library import (
    LibraryStatus,
    ScanReport,
    library_status,
    remove_folder,
    rescan,
    scan_folder,
)

LISTED_UNREADABLE = 20  # in the text status; --json lists every one


@click.group("library")
def library_group() -> None:
    """Your music folder: the files playlists point at (`playlist --playable local`)."""


def _progress(stage: str, done: int, total: int) -> None:
    of = f" of {total:,}" if total else ""
    echo(f"... {done:,}{of} files {stage}", err=True)


@library_group.command("add")
@click.argument("path", type=click.Path(path_type=Path))
@json_option
@click.pass_context
def add_command(ctx: click.Context, path: Path, as_json: bool) -> None:
    """Scan PATH for audio files (MP3, FLAC, Ogg Vorbis, Opus, M4A) and match them to tracks.

    Run it again to rescan: unchanged files are not read again, moved and deleted files are
    noticed.
    """
    _echo_reports([scan_folder(open_store(ctx), path, progress=_progress)], as_json)


@library_group.command("rescan")
@json_option
@click.pass_context
def rescan_command(ctx: click.Context, as_json: bool) -> None:
    """Scan every music folder added before again (after an import, to match new tracks)."""
    _echo_reports(rescan(open_store(ctx), progress=_progress), as_json)


@library_group.command("remove")
@click.argument("path", type=click.Path(path_type=Path))
@click.pass_context
def remove_command(ctx: click.Context, path: Path) -> None:
    """Forget the files under PATH (the files themselves are not touched)."""
    removed = remove_folder(open_store(ctx), path)
    echo(f"forgot {removed:,} files under {path}")


@library_group.command("status")
@json_option
@click.pass_context
def status_command(ctx: click.Context, as_json: bool) -> None:
    """Count the files, the tracks they matched, and list the files that cannot be read."""
    status = library_status(open_store(ctx))
    if as_json:
        echo_json(status.as_dict())
        return
    _echo_status(status)


def _echo_reports(reports: list[ScanReport], as_json: bool) -> None:
    if as_json:
        echo_json([r.as_dict() for r in reports])
        return
    for r in reports:
        echo(
            f"{r.folder}: {r.files:,} audio files ({r.read:,} read, {r.unchanged:,} unchanged, "
            f"{r.moved:,} moved, {r.deleted:,} deleted, {r.unreadable:,} unreadable); "
            f"{r.matched:,} matched to tracks ({r.newly_matched:,} new) in {r.seconds:.1f} s"
        )
        for skipped in r.skipped_folders:
            echo(f"  could not read {skipped}")


def _echo_status(s: LibraryStatus) -> None:
    if not s.folders:
        echo("no music folder yet: add one with `tastemaker library add PATH`")
        return
    echo(f"folders: {', '.join(s.folders)}")
    by = ", ".join(f"{n:,} by {rule}" for rule, n in s.matched_by.items()) or "none"
    echo(
        f"{s.files:,} files: {s.matched_files:,} matched to {s.matched_tracks:,} tracks "
        f"({by}), {s.unmatched:,} matched to no track, {len(s.unreadable):,} unreadable"
    )
    for u in s.unreadable[:LISTED_UNREADABLE]:
        echo(f"  unreadable {u.path}: {u.error}")
    if len(s.unreadable) > LISTED_UNREADABLE:
        more = len(s.unreadable) - LISTED_UNREADABLE
        echo(f"  ... and {more:,} more (--json lists every one)")


COMMANDS = [library_group]
