"""Inputs that cannot hurt: every hostile file is a rejected row or one `Error:` line, the store
is left as it was, and nothing hangs or inflates without bound."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from click.testing import CliRunner

from playlists.cli import main
from recommender.errors import ExportTooLarge, IngestError, UnsafeArchive
from recommender.sources import _common, hetrec, import_path
from recommender.store import Store
from tests.export_files import jsonl, lb_export_listen, snapshot, spotify_row, write_zip
from tests.hetrec_fixtures import write_folder

T = 1_714_550_000


def _one_error_line(tmp_path: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "cli.db"), *args])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.output


# -- only regular files --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["listenbrainz", "spotify", "lastfm", "tastemaker", "hetrec"])
def test_a_fifo_is_refused_before_it_is_opened(tmp_path: Path, fmt: str) -> None:
    fifo = tmp_path / "listens.jsonl"
    os.mkfifo(fifo)  # opening it for reading would block for ever
    output = _one_error_line(tmp_path, "import", fmt, str(fifo), "--listener", "me")
    assert "FIFO" in output


def test_a_device_is_refused(tmp_path: Path) -> None:
    output = _one_error_line(tmp_path, "import", "listenbrainz", "/dev/zero", "--listener", "me")
    assert "a device" in output


def test_a_folder_import_never_follows_links_out_of_the_folder(
    store: Store, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps([spotify_row("2025-03-02T18:03:42Z", 200_000, "X", "Y")]))
    folder = tmp_path / "export"
    (folder / "sub").mkdir(parents=True)
    inside = [spotify_row("2025-03-02T19:03:42Z", 200_000, "Ruby Soho", "Rancid")]
    (folder / "Streaming_History_Audio_2025.json").write_text(json.dumps(inside))
    (folder / "Streaming_History_Audio_2024.json").symlink_to(outside)
    (folder / "sub" / "escape").symlink_to(tmp_path, target_is_directory=True)
    report = import_path(store, "spotify", folder, listener="me")
    assert report.imported == 1
    assert [r[0] for r in store.conn.execute("SELECT name FROM artists")] == ["Rancid"]


# -- archives --------------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_by_its_inflation_ratio(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("listens/2021/1.jsonl", b"\n" * (8 << 20))
    assert path.stat().st_size < 100_000
    with pytest.raises(UnsafeArchive, match="zip bomb"):
        import_path(store, "listenbrainz", path, listener="me")
    assert snapshot(store)["imports"] == 0


def test_a_zip_has_a_total_inflated_budget(store: Store, tmp_path: Path) -> None:
    rows = jsonl([lb_export_listen(T + n, "Rancid", f"Song {n}") for n in range(50)])
    files: dict[str, bytes | str] = {f"listens/2024/{m}.jsonl": rows for m in range(1, 13)}
    path = write_zip(tmp_path / "many.zip", files)
    size = len(rows.encode())
    with (
        mock.patch.object(_common, "MAX_EXPORT_BYTES", size * 5),
        pytest.raises(ExportTooLarge, match="in all"),
    ):
        import_path(store, "listenbrainz", path, listener="me")
    assert snapshot(store)["listens"] == 0


def test_a_budget_counts_bytes_actually_read() -> None:
    budget = _common.Budget(Path("x.zip"), limit=10_000)
    first = io.BufferedReader(_common.CappedStream(io.BytesIO(b"x" * 6000), "a", None, budget))
    first.read()
    second = io.BufferedReader(_common.CappedStream(io.BytesIO(b"x" * 6000), "b", None, budget))
    with pytest.raises(ExportTooLarge, match="10,000 bytes in all"):
        second.read()


# -- rows that used to crash ----------------------------------------------------------------


def test_lone_surrogates_are_rejected_rows(store: Store, tmp_path: Path) -> None:
    good = lb_export_listen(T, "Rancid", "Ruby Soho")
    bad = lb_export_listen(T + 60, "Ran\ud800cid", "Time Bomb")
    path = tmp_path / "listens.jsonl"
    # json.dumps writes the lone surrogate as the escape \ud800, as a hostile file would.
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    report = import_path(store, "listenbrainz", path, listener="me")
    assert (report.imported, report.rejected) == (1, 1)
    sp = tmp_path / "endsong_0.json"
    sp.write_text(json.dumps([spotify_row("2025-03-02T18:03:42Z", 200_000, "\udfff", "X")]))
    assert import_path(store, "spotify", sp, listener="me").skipped == 1


def test_out_of_range_numbers_in_a_tastemaker_export_are_rejected_rows(
    store: Store, tmp_path: Path
) -> None:
    listens = [
        {"artist": "A", "source": "demo", "plays": 1, "listened_at": T},
        {"artist": "B", "source": "demo", "plays": 1, "listened_at": 10**30},
        {"artist": "C", "source": "demo", "plays": 10**20},
        {"artist": "D", "source": "demo", "plays": 1, "ms_played": 10**19},
        {"artist": "E", "source": "demo", "plays": 1e3},
        {"artist": "F\ud800", "source": "demo", "plays": 1},
    ]
    path = tmp_path / "export.json"
    path.write_text(
        json.dumps(
            {
                "format": "tastemaker-export",
                "version": 1,
                "listener": {"name": "eve"},
                "terms": {"surprise": "high", "exclude_artists": [1, 2]},
                "listens": listens,
            }
        )
    )
    report = import_path(store, "tastemaker", path)
    assert (report.imported, report.rejected) == (1, 6)
    assert report.rejects[-1].location == "terms"


def test_deeply_nested_json_is_a_rejected_row_or_a_damaged_file(
    store: Store, tmp_path: Path
) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    lines = tmp_path / "listens.jsonl"
    lines.write_text(json.dumps(lb_export_listen(T, "Rancid", "Ruby Soho")) + "\n" + deep + "\n")
    report = import_path(store, "listenbrainz", lines, listener="me")
    assert (report.imported, report.rejected) == (1, 1)
    array = tmp_path / "endsong_0.json"
    array.write_text("[" + deep + "]")
    with pytest.raises(IngestError, match="damaged"):
        import_path(store, "spotify", array, listener="me")


@pytest.mark.parametrize("weight", ["1" * 23, "\u00b2", "-4", "1e3"])
def test_hetrec_weights_out_of_range_are_rejected_rows(
    store: Store, tmp_path: Path, weight: str
) -> None:
    folder = write_folder(tmp_path / "h")
    with (folder / "user_artists.dat").open("a", encoding="utf-8") as handle:
        handle.write(f"2\t3\t{weight}\n")
    report = import_path(store, "hetrec", folder)
    assert report.rejected == 1
    assert report.rejects[0].reason == "user id and weight must be positive integers"


def test_a_huge_hetrec_line_is_an_error_not_a_memory_blowup(store: Store, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "h")
    with (folder / "user_taggedartists.dat").open("a", encoding="utf-8") as handle:
        handle.write("2\t3\t" + "9" * (2 << 20) + "\n")
    with pytest.raises(IngestError, match="longer than"):
        import_path(store, "hetrec", folder)
    assert snapshot(store)["imports"] == 0


@pytest.mark.parametrize("encoding", ["base64", "rot13", "zlib", "hex"])
def test_only_text_encodings_are_accepted(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "listens.jsonl"
    path.write_text("{}\n")
    output = _one_error_line(
        tmp_path, "import", "listenbrainz", str(path), "--listener", "me", "--encoding", encoding
    )
    assert "not a text encoding" in output


def test_hetrec_tag_counts_are_distinct_taggers_in_first_tagged_order() -> None:
    taggers = hetrec._Taggers(2)  # artists 10 and 20 are places 0 and 1; punk 0, rock 1
    rows = [
        (1, 1, 1),  # (artist, tag, user): 20 rock by u1
        (0, 0, 1),
        (1, 1, 2),
        (1, 1, 1),  # the same tagger twice (HetRec's "Rock" and "rock")
        (0, 1, 3),
    ]
    taggers.add(*(np.array(column, dtype=np.int64) for column in zip(*rows, strict=True)))
    ((artists, tags, counts),) = taggers.counts()
    assert list(zip(artists.tolist(), tags.tolist(), counts.tolist(), strict=True)) == [
        (1, 1, 2),
        (0, 0, 1),
        (0, 1, 1),
    ]
