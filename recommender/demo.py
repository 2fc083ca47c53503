"""The demo job: the embedded demo world in a store, a current model, ready for playlists; and
the sample personal export the README's quick tour imports (`datasets/samples/`)."""

from __future__ import annotations

import csv
import io
import json
import random
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from recommender.errors import ModelMissing, ModelStale
from recommender.ingest.writer import ImportReport, checksum
from recommender.interactions import load_interactions
from recommender.resources import demo_dir
from recommender.sources import import_path
from recommender.store import Store
from recommender.training import TrainedModel, load_model, train

DEMO_LISTENER = "listener-001"  # a street-punk listener (see datasets/demo/README.md)


@dataclass(frozen=True)
class DemoReady:
    imported: ImportReport | None  # None when the demo world was already in the store
    model: TrainedModel
    trained: bool


def demo_imported(store: Store, folder: Path | None = None) -> bool:
    """True when these exact demo files (same checksum) were imported into the store before."""
    digest = checksum(folder or demo_dir())
    row = store.conn.execute(
        "SELECT 1 FROM imports WHERE format = 'demo' AND checksum = ? LIMIT 1", (digest,)
    ).fetchone()
    return row is not None


def ensure_demo(store: Store, progress: Callable[[int], None] | None = None) -> ImportReport | None:
    """Import the embedded demo world unless it is already there; None when nothing was done."""
    folder = demo_dir()
    if demo_imported(store, folder):
        return None
    return import_path(store, "demo", folder, progress=progress)


def prepare_demo(store: Store, progress: Callable[[int], None] | None = None) -> DemoReady:
    """Import the demo world if needed and train unless the newest model is still current."""
    report = ensure_demo(store, progress=progress)
    try:
        model = load_model(store)
        if model.fingerprint == load_interactions(store).fingerprint:
            return DemoReady(report, model, trained=False)
    except (ModelMissing, ModelStale):
        pass
    return DemoReady(report, train(store), trained=True)


# -- the sample personal export -------------------------------------------------------------

SAMPLE_EXPORT = "listenbrainz_me.zip"  # in datasets/samples/, beside the demo world
SAMPLE_USER = "me"
_SAMPLE_SEED = 20251101
_SAMPLE_TASTE = (("ska-punk", 0.7), ("midwest-emo", 0.2))  # the rest: bands the world lacks
_SAMPLE_OWN_BANDS = ("The Basement Reel", "Porchlight Static", "Kettle & Crow")
_SAMPLE_LISTENS = 480
_SAMPLE_DAYS = 90
_ZIP_TIME = (2025, 11, 1, 0, 0, 0)


def samples_dir() -> Path:
    """Where the sample personal export lives (next to the demo world)."""
    return demo_dir().parent / "samples"


def sample_export_bytes(world: Path | None = None) -> bytes:
    """A fictional listener's ListenBrainz export (the shape listenbrainz-server writes:
    user.json, listens/YYYY/M.jsonl, feedback.jsonl), over the demo world's artists plus a
    few it does not know, ending with the world's last day. Seeded: the same bytes each time.
    """
    folder = world or demo_dir()
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    end = int(datetime.fromisoformat(truth["end"]).timestamp())
    names = _csv_column(folder / "artists.csv", "artist_id", "name")
    tracks: dict[str, list[tuple[str, str, int]]] = {}
    with (folder / "tracks.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            tracks.setdefault(names[row["artist_id"]], []).append(
                (row["title"], row["album"], int(row["duration_ms"]))
            )
    rng = random.Random(_SAMPLE_SEED)
    pool: list[tuple[str, float]] = []
    for scene, share in _SAMPLE_TASTE:
        known = truth["scenes"][scene]["artists"][:12]
        pool += [(artist, share / len(known)) for artist in known]
    left = 1.0 - sum(share for _, share in _SAMPLE_TASTE)
    pool += [(band, left / len(_SAMPLE_OWN_BANDS)) for band in _SAMPLE_OWN_BANDS]
    for band in _SAMPLE_OWN_BANDS:
        tracks[band] = [(f"Side {side}", "Demo Tape", 180_000 + 7_000 * side) for side in (1, 2)]
    artists, weights = zip(*pool, strict=True)
    msids: dict[tuple[str, str], str] = {}
    months: dict[str, list[str]] = {}
    at = end - _SAMPLE_DAYS * 86_400
    step = _SAMPLE_DAYS * 86_400 // _SAMPLE_LISTENS
    for _ in range(_SAMPLE_LISTENS):
        at += rng.randrange(step // 2, step + step // 2)
        artist = rng.choices(artists, weights)[0]
        title, album, duration = rng.choice(tracks[artist])
        fresh = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        msid = msids.setdefault((artist, title), fresh)
        listen = {
            "listened_at": float(min(at, end)),
            "inserted_at": float(min(at, end) + 2),
            "track_metadata": {
                "artist_name": artist,
                "track_name": title,
                "release_name": album,
                "additional_info": {"duration_ms": duration, "submission_client": "sample"},
                "recording_msid": msid,
                "mbid_mapping": None,
            },
        }
        when = datetime.fromtimestamp(min(at, end), UTC)
        months.setdefault(f"listens/{when.year}/{when.month}.jsonl", []).append(
            json.dumps(listen, ensure_ascii=False)
        )
    loved, hated = sorted(msids.items())[:2]
    feedback = [
        {"recording_msid": loved[1], "recording_mbid": None, "score": 1, "created": end - 86_400},
        {"recording_msid": hated[1], "recording_mbid": None, "score": -1, "created": end - 3_600},
    ]
    files = {
        "user.json": json.dumps({"user_id": 1, "username": SAMPLE_USER}),
        **{name: "\n".join(lines) + "\n" for name, lines in months.items()},
        "feedback.jsonl": "".join(json.dumps(row) + "\n" for row in feedback),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(zipfile.ZipInfo(name, _ZIP_TIME), text.encode("utf-8"))
    return buffer.getvalue()


def _csv_column(path: Path, key: str, value: str) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row[key]: row[value] for row in csv.DictReader(handle)}


if __name__ == "__main__":
    # Rewrite the shipped sample: `python -m recommender.demo [FOLDER]`.
    import sys

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else samples_dir()
    target.mkdir(parents=True, exist_ok=True)
    (target / SAMPLE_EXPORT).write_bytes(sample_export_bytes())
    print(target / SAMPLE_EXPORT)
