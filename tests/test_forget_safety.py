"""Forget is complete or fails loudly (issue 12, items 1-5 and the forget parts of 11).

Every test ends by searching the bytes of every file the store manages (the database, its WAL
and shared memory, the models folder) for strings only the forgotten listener's data holds.
The orders of the issue: during a train, with a reader open, after a killed train, on a full
disk (a real small tmpfs, tests/small_disk.py), and a copied store.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import recommender.training as training
from playlists import privacy
from playlists.cli import main
from playlists.errors import ForgetIncomplete
from playlists.privacy import export_listener, forget, parse_when
from playlists.written import FileKind, write_listener_file
from recommender.bundle import write_bundle
from recommender.errors import ForgottenWhileTraining, InvalidForget, InvalidTerms, UnknownListener
from recommender.generation import data_generation, forget_unfinished
from recommender.ingest import Listen
from recommender.models import TastemakerConfig
from recommender.store import Store, utc_now
from recommender.terms_storage import update_terms
from recommender.training import load_model, train
from tests.hostile_fixtures import SECRET, SECRET_ARTIST, with_secret
from tests.small_disk import run_on_small_disk, small_disk_works
from tests.terms_fixtures import DAY, T0, add, small_world

FAST = TastemakerConfig(no_components=4, epochs=3, learning_rate=0.05, ease_share=0.1)
SECRETS = (SECRET.encode(), SECRET_ARTIST.encode())


def _managed_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under the store's folder (database, -wal, -shm, models/...)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _holding_secrets(folder: Path) -> list[str]:
    return sorted(
        name
        for name, data in _managed_bytes(folder).items()
        if any(s in data or s.decode().encode("utf-16-le") in data for s in SECRETS)
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "store" / "t.db"
    with Store.open(path) as store:
        with_secret(store)
    return path


def test_a_train_that_read_the_data_before_a_forget_never_becomes_the_model(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's `train & sleep 0.8; forget ...`: here the forget runs, from a second
    connection, right after the train has read the listens, so the order is certain."""
    real = training.load_interactions

    def read_then_forget(store: Store) -> object:
        interactions = real(store)
        with Store.open(db) as other:
            forget(other, SECRET, all_data=True)
        return interactions

    monkeypatch.setattr(training, "load_interactions", read_then_forget)
    with Store.open(db) as store:
        before = data_generation(store)
        with pytest.raises(ForgottenWhileTraining, match="run `tastemaker train` again"):
            train(store, FAST)
        assert data_generation(store) == before + 1
        assert store.conn.execute("SELECT count(*) FROM models").fetchone()[0] == 0
    models = db.parent / "models"
    assert not models.exists() or not any(models.iterdir())
    assert _holding_secrets(db.parent) == []


def test_a_train_that_recorded_first_is_marked_stale_and_its_bundle_deleted(db: Path) -> None:
    with Store.open(db) as store:
        model = train(store, FAST)
        assert model.path is not None and model.path.is_dir()
        report = forget(store, SECRET, all_data=True)
        assert report.finished and report.models_marked_stale == 1 and not model.path.exists()
    assert _holding_secrets(db.parent) == []


def _killed_train_debris(db: Path) -> tuple[Path, Path]:
    """What a killed train leaves: a half-written staging folder and a complete bundle that
    no row records (it lost the race to record, or was killed just before)."""
    models = db.parent / "models"
    staging = models / ".20990101T000000000000Z-deadbeef.partial"
    staging.mkdir(parents=True)
    (staging / "mappings.json").write_text(json.dumps({"listeners": [SECRET]}))
    unrecorded, _ = write_bundle(
        models / "20990101T000001000000Z-deadbeef",
        {"x": np.zeros(2)},
        {"listeners": [SECRET]},
        {"model_id": "never-recorded"},
    )
    return staging, unrecorded


def test_debris_of_killed_trains_is_found_and_nothing_else_is_touched(db: Path) -> None:
    staging, unrecorded = _killed_train_debris(db)
    keep = db.parent / "models" / "notes"
    keep.mkdir()
    (keep / "mine.txt").write_text(SECRET)  # not a bundle: the listener's own notes stay
    with Store.open(db) as store:
        report = forget(store, SECRET, all_data=True)
    assert report.finished and report.bundles_deleted == 2
    assert not staging.exists() and not unrecorded.exists() and keep.exists()
    assert _holding_secrets(db.parent) == ["models/notes/mine.txt"]


def test_a_later_forget_of_nothing_still_cleans_debris_and_keeps_the_live_model(db: Path) -> None:
    with Store.open(db) as store:
        model = train(store, FAST)
        staging, unrecorded = _killed_train_debris(db)
        report = forget(store, SECRET, since="2001-01-01", until="2001-01-02")  # no listens
        assert (report.listens, report.models_marked_stale, report.bundles_deleted) == (0, 0, 2)
        assert model.path is not None and model.path.is_dir()
        assert load_model(store).model_id == model.model_id
    assert not staging.exists() and not unrecorded.exists()


def test_a_copied_store_never_touches_the_original_bundles(db: Path, tmp_path: Path) -> None:
    with Store.open(db) as store:
        original = train(store, FAST).path
    assert original is not None
    copy = tmp_path / "copy"
    shutil.copytree(db.parent, copy)  # `cp -r`: the rows still name the original's paths
    before = {p: p.read_bytes() for p in original.iterdir()}
    with Store.open(copy / "t.db") as store:
        report = forget(store, SECRET, all_data=True)
    assert report.finished and report.bundles_deleted == 1
    assert {p: p.read_bytes() for p in original.iterdir()} == before
    assert any("outside" in note for note in report.notes)
    assert _holding_secrets(copy) == []


def test_a_models_folder_that_is_a_link_is_never_entered(db: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (db.parent / "models").symlink_to(elsewhere)
    with Store.open(db) as store:
        bundle = train(store, FAST).path
        assert bundle is not None and bundle.parent.resolve() == elsewhere.resolve()
        with pytest.raises(ForgetIncomplete, match="is a link or not a folder") as failed:
            forget(store, SECRET, all_data=True)
    assert failed.value.report.listens == 12  # type: ignore[attr-defined]
    assert bundle.exists()  # outside the store's folder: left alone


@pytest.fixture
def short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkpoint gives up on a reader after 0.2 s instead of 5 s."""
    monkeypatch.setattr(privacy, "CHECKPOINT_WAIT_MS", 200)


@pytest.mark.usefixtures("short_wait")
def test_a_reader_holding_a_snapshot_fails_loudly_and_a_rerun_finishes(db: Path) -> None:
    reader = sqlite3.connect(db)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM listens").fetchone()
    with Store.open(db) as store:
        with pytest.raises(ForgetIncomplete, match="another process is reading") as failed:
            forget(store, SECRET, all_data=True)
        assert failed.value.report.listens == 12  # type: ignore[attr-defined]
        assert store.listener_id(SECRET) is None and forget_unfinished(store)
        reader.close()
        again = forget(store, SECRET, all_data=True)  # the listener is gone: it finishes
        assert again.resumed and again.finished and not forget_unfinished(store)
    assert _holding_secrets(db.parent) == []


@pytest.mark.usefixtures("short_wait")
def test_cli_says_what_is_left_in_one_error_line(db: Path) -> None:
    reader = sqlite3.connect(db)
    reader.execute("BEGIN")
    reader.execute("SELECT 1 FROM listens").fetchone()
    runner = CliRunner()
    result = runner.invoke(main, ["--db", str(db), "forget", "--listener", SECRET, "--all"])
    reader.close()
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "forgot 12 listen rows" in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "run the same forget again" in errors[0]
    again = runner.invoke(main, ["--db", str(db), "forget", "--listener", SECRET, "--all"])
    assert again.exit_code == 0 and "finishing the forget that stopped before" in again.output
    nothing = runner.invoke(main, ["--db", str(db), "forget", "--listener", SECRET, "--all"])
    assert nothing.exit_code == 1 and nothing.output.startswith("Error: no listener named")


FULL_DISK = """
import json, shutil, sys
from pathlib import Path
from playlists.privacy import forget
from recommender.errors import TastemakerError
from recommender.store import Store

disk = Path(sys.argv[1])
shutil.copy(sys.argv[1] + "-store.db", disk / "t.db")
secrets = [s.encode() for s in json.loads(Path(sys.argv[1] + "-secrets.json").read_text())]

def holding():
    return sorted(p.name for p in disk.iterdir() if p.is_file() and p.name != "filler"
                  and any(s in p.read_bytes() for s in secrets))

def fill(leave):
    free = shutil.disk_usage(disk).free
    (disk / "filler").write_bytes(b"\\0" * max(0, free - leave))

def attempt():
    try:
        with Store.open(disk / "t.db") as store:
            report = forget(store, json.loads(Path(sys.argv[1] + "-secrets.json").read_text())[0],
                            all_data=True)
            return {"ok": True, "resumed": report.resumed}
    except TastemakerError as exc:
        return {"ok": False, "error": str(exc)}

out = {}
fill(leave=int(sys.argv[2]))
out["first"] = attempt()
out["after_first"] = holding()
(disk / "filler").unlink()
out["second"] = attempt()
out["after_second"] = holding()
print(json.dumps(out))
"""


def _full_disk_run(db: Path, tmp_path: Path, *, room_to_delete: bool) -> dict[str, object]:
    """Run FULL_DISK with free space for the delete (a few pages of WAL and the shared-memory
    file: half the store's size) but not for VACUUM, which writes the whole store again into
    the WAL; or with room for the shared memory only."""
    if not small_disk_works():
        pytest.skip("no private tmpfs here (unshare --mount): the full disk cannot be real")
    with Store.open(db) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    disk = tmp_path / "disk"
    shutil.copy(db, f"{disk}-store.db")
    Path(f"{disk}-secrets.json").write_text(json.dumps([SECRET, SECRET_ARTIST]))
    size = db.stat().st_size // 1024 * 3 + 1024
    leave = db.stat().st_size // 2 if room_to_delete else 40 * 1024
    script = FULL_DISK.replace("sys.argv[2]", str(leave))
    return run_on_small_disk(script, disk, size_kib=size)


def test_a_full_disk_during_vacuum_fails_loudly_and_a_rerun_finishes(
    db: Path, tmp_path: Path
) -> None:
    """Room for the delete but not for VACUUM (which writes the whole file again)."""
    result = _full_disk_run(db, tmp_path, room_to_delete=True)
    first = result["first"]
    assert first == {"ok": False, "error": first["error"]}, result  # type: ignore[index]
    assert "disk is full" in first["error"] and "run the same forget again" in first["error"]  # type: ignore[index]
    # secure_delete zeroed the freed pages and the checkpoint put them in the file already.
    assert result["after_first"] == []
    assert result["second"] == {"ok": True, "resumed": True}
    assert result["after_second"] == []


def test_a_disk_too_full_to_delete_changes_nothing_and_says_so(db: Path, tmp_path: Path) -> None:
    result = _full_disk_run(db, tmp_path, room_to_delete=False)
    first = result["first"]
    assert first["ok"] is False and first["error"].startswith("nothing was forgotten")  # type: ignore[index]
    assert result["after_first"] == ["t.db"]  # still there: nothing was deleted
    assert result["second"] == {"ok": True, "resumed": False}
    assert result["after_second"] == []


# Feedback, names with only playlists, dates, terms ------------------------------------------


def _feedback(
    store: Store, listener: str, kind: str, artist: str | None, *, at: int, **more: object
) -> None:
    listener_id = store.listener_id(listener)
    artist_id = None
    if artist is not None:
        artist_id = store.conn.execute(
            "SELECT id FROM artists WHERE name = ?", (artist,)
        ).fetchone()[0]
    row = {
        "listener_id": listener_id,
        "kind": kind,
        "artist_id": artist_id,
        "at": at,
        "source": "listenbrainz",
        "dedupe": f"{kind}-{artist}-{at}-{more}",
        **more,
    }
    with store.transaction():
        store.db.table("feedback").insert(row)


def _feedback_count(store: Store, listener: str) -> int:
    return int(
        store.conn.execute(
            "SELECT count(*) FROM feedback WHERE listener_id = ?", (store.listener_id(listener),)
        ).fetchone()[0]
    )


def test_feedback_is_forgotten_by_artist_date_and_all_and_exported(store: Store) -> None:
    small_world(store)
    _feedback(store, "alice", "love", "Rancid", at=T0)
    _feedback(store, "alice", "hate", None, at=T0, artist_name="rancid", track_title="Pending")
    _feedback(store, "alice", "skip", "Fleet Pines", at=T0 + 20 * DAY)
    _feedback(store, "alice", "love", "Earth Crisis", at=T0 + 40 * DAY)
    exported = export_listener(store, "alice")["feedback"]
    assert [(f["kind"], f["artist"]) for f in exported] == [
        ("love", "Rancid"),
        ("hate", "rancid"),
        ("skip", "Fleet Pines"),
        ("love", "Earth Crisis"),
    ]
    assert forget(store, "alice", artist="Rancid").feedback == 2  # also the pending row
    assert forget(store, "alice", since="2025-07-01", until="2025-07-10").feedback == 1
    assert _feedback_count(store, "alice") == 1
    assert forget(store, "alice", all_data=True).feedback == 1
    assert store.conn.execute("SELECT count(*) FROM feedback").fetchone()[0] == 0


def test_a_track_someone_else_gave_feedback_on_stays(store: Store) -> None:
    add(store, "demo", [Listen("Lone Band", "dana", title="Only Song", listened_at=T0)])
    track = store.conn.execute("SELECT id FROM tracks WHERE title = 'Only Song'").fetchone()[0]
    add(store, "demo", [Listen("Rancid", "erin", listened_at=T0)])
    _feedback(store, "erin", "love", "Lone Band", at=T0, track_id=track)
    report = forget(store, "dana", all_data=True)  # used to be a foreign-key error
    assert (report.tracks, report.artists) == (0, 0)
    assert store.conn.execute("SELECT title FROM tracks WHERE id = ?", (track,)).fetchone()


def test_a_name_with_only_new_listener_playlists_can_be_forgotten(store: Store) -> None:
    small_world(store)
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO playlists (id, listener_id, listener_name, created_at, params)"
            " VALUES ('pl-ghost', NULL, 'ghost', ?, '{}')",
            (utc_now(),),
        )
    assert export_listener(store, "ghost")["playlists"][0]["id"] == "pl-ghost"
    with pytest.raises(InvalidForget, match="only playlists.*--all"):
        forget(store, "ghost", artist="Rancid")
    report = forget(store, "ghost", all_data=True)
    assert (report.playlists, report.listens) == (1, 0)
    assert store.conn.execute("SELECT count(*) FROM playlists").fetchone()[0] == 0


def test_dates_at_the_edges_and_in_basic_format_are_whole_days(store: Store) -> None:
    assert parse_when("9999-12-31", end=True) - parse_when("9999-12-31", end=False) == DAY
    assert parse_when("20251021", end=True) == parse_when("2025-10-21", end=True)
    assert parse_when("20251021", end=False) == parse_when("2025-10-21", end=False)
    small_world(store)
    assert forget(store, "bob", since="2000-01-01", until="9999-12-31").listens == 4
    with pytest.raises(InvalidForget, match="not a date"):
        forget(store, "alice", until="2025-13-01")


def test_an_infinite_half_life_is_refused_and_a_stored_one_exports_standard_json(
    file_store: Store, tmp_path: Path
) -> None:
    small_world(file_store)
    with pytest.raises(InvalidTerms, match="finite"):
        update_terms(file_store, "alice", half_life_days=float("inf"))
    update_terms(file_store, "alice", surprise=0.3)
    with file_store.transaction() as conn:  # as a store written before the check holds it
        conn.execute("UPDATE terms SET half_life_days = ?", (float("inf"),))
    out = tmp_path / "alice.json"
    runner = CliRunner()
    done = runner.invoke(
        main, ["--db", str(file_store.path), "export-data", "--listener", "alice", "-o", str(out)]
    )
    assert done.exit_code == 0, done.output

    def refuse(constant: str) -> object:
        raise AssertionError(f"non-standard JSON: {constant}")

    data = json.loads(out.read_text(), parse_constant=refuse)
    assert data["terms"]["half_life_days"] > 1e300
    cli = runner.invoke(
        main, ["--db", str(file_store.path), "terms", "--listener", "alice", "--half-life", "inf"]
    )
    assert cli.exit_code == 1 and cli.output.startswith("Error: half-life must be")


# Files written for the listener ---------------------------------------------------------------


def test_forget_lists_the_written_files_that_still_name_the_listener(
    db: Path, tmp_path: Path
) -> None:
    with Store.open(db) as store:
        train(store, FAST)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, ["--db", str(db), *args])
        assert result.exit_code == 0, result.output
        return result.output

    export, stale = tmp_path / "mine.json", tmp_path / "rewritten.json"
    run("export-data", "--listener", SECRET, "-o", str(export))
    run("export-data", "--listener", SECRET, "-o", str(stale))
    stale.write_text("{}")  # the listener replaced it: it no longer names them
    listing = tmp_path / "mine.playlist.json"
    run("playlist", "--listener", SECRET, "--length", "5", "--format", "json", "-o", str(listing))
    playlist_id = json.loads(listing.read_text())["id"]
    page = tmp_path / "page.html"
    run("report", playlist_id, "--html", str(page))
    output = run("forget", "--listener", SECRET, "--all")
    assert f"still name {SECRET}" in output
    named = [line.strip() for line in output.splitlines() if line.startswith("    ")]
    assert sorted(named) == sorted(str(p.resolve()) for p in (export, listing, page))
    with Store.open(db) as store:
        assert store.conn.execute("SELECT count(*) FROM written_files").fetchone()[0] == 0
    assert export.exists()  # the listener's own files: never deleted by tastemaker


def test_secure_delete_is_on_for_the_forget(store: Store) -> None:
    small_world(store)
    store.conn.execute("PRAGMA secure_delete = OFF")
    forget(store, "alice", artist="Rancid")
    assert store.conn.execute("PRAGMA secure_delete").fetchone()[0] == 1


def test_an_unknown_name_still_says_did_you_mean(store: Store) -> None:
    small_world(store)
    with pytest.raises(UnknownListener, match="no listener named 'alicia'.*alice"):
        forget(store, "alicia", all_data=True)


def test_a_store_that_cannot_note_a_file_still_writes_it_and_says_so(
    file_store: Store, tmp_path: Path
) -> None:
    small_world(file_store)
    file_store.conn.execute("PRAGMA query_only = ON")  # as a read-only store answers writes
    saved = write_listener_file(file_store, tmp_path / "x.json", "{}", kind=FileKind.EXPORT)
    assert (tmp_path / "x.json").read_text() == "{}"
    assert saved.note is not None and "`tastemaker forget` will not list it" in saved.note
