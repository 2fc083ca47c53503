"""Listens as Parquet: the store's listening written for Spark, and the layouts Spark reads.

`export_listens(store, folder)` writes every listen (none dropped: each listener's terms travel
as columns) plus the catalogue the aggregates need, as one folder:

    listens/bucket=N/*.parquet   one row per stored listen, hive-partitioned by listener
                                 (bucket = listener_id % buckets) so a listener's rows sit in
                                 one partition and Spark reads each bucket as its own task
    listeners.parquet            id, name, personalise, half_life_days, ignore_sources
    artists.parquet              id, name
    tags.parquet                 id, name (only tags some artist carries)
    artist_tags.parquet          artist_id, tag_id, count (summed over the sources of tags)
    manifest.json                format, row counts, reference time (newest usable listen)

Listen columns: listener_id, artist_id, track_id (NULL for artist-level data), listened_at (Unix
seconds, NULL without a timestamp), plays, source, and the terms as they stand at export time:
`personalise` (false: the listener opted out), `source_ignored` (the listener ignores this
listen's source), `half_life_days` (their decay) and `usable` (personalise and not ignored, the
same rule as `recommender.listens.USABLE`). A reader filters on `usable`; nothing is dropped here,
so the files say what was left out and why.

The folder is written beside its target and renamed into place only when complete: a reader
never sees half an export. pyarrow is imported lazily (the `spark` extra), so nothing on the
default path needs it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recommender.errors import LakeError
from recommender.listens import USABLE
from recommender.store import Store
from recommender.terms import DEFAULT_HALF_LIFE_DAYS

FORMAT = "tastemaker-listens/1"
MANIFEST = "manifest.json"
LISTENS = "listens"
DEFAULT_BUCKETS = 8
_ROWS_PER_BATCH = 200_000


@dataclass(frozen=True)
class ListensExport:
    """What `export_listens` wrote."""

    folder: Path
    listens: int
    usable: int
    listeners: int
    artists: int
    buckets: int
    reference_time: int | None

    def describe(self) -> str:
        left_out = self.listens - self.usable
        return (
            f"wrote {self.listens:,} listens of {self.listeners:,} listeners"
            f" ({left_out:,} not usable under their terms, kept and marked) and"
            f" {self.artists:,} artists to {self.folder} in {self.buckets} partitions"
        )


def require_pyarrow() -> Any:
    """The pyarrow module, or LakeError saying how to install it."""
    try:
        import pyarrow
    except ImportError as exc:
        raise LakeError(
            "Parquet needs pyarrow: pip install 'tastemaker[spark]' (or pip install pyarrow)"
        ) from exc
    return pyarrow


def listen_schema() -> Any:
    """The Arrow schema of one exported listen."""
    pa = require_pyarrow()
    return pa.schema(
        [
            ("listener_id", pa.int64()),
            ("artist_id", pa.int64()),
            ("track_id", pa.int64()),
            ("listened_at", pa.int64()),
            ("plays", pa.int64()),
            ("source", pa.string()),
            ("personalise", pa.bool_()),
            ("source_ignored", pa.bool_()),
            ("half_life_days", pa.float64()),
            ("usable", pa.bool_()),
            ("bucket", pa.int32()),
        ]
    )


def export_listens(store: Store, folder: Path, buckets: int = DEFAULT_BUCKETS) -> ListensExport:
    """Write the store's listens and catalogue as Parquet in `folder` (absent or empty)."""
    pa = require_pyarrow()
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    if buckets < 1:
        raise LakeError(f"--buckets must be at least 1, not {buckets}")
    folder = Path(folder)
    try:
        with new_folder(folder) as work:
            counts = _write_listens(store, work / LISTENS, buckets, pa, ds)
            listeners = _write_listeners(store, work / "listeners.parquet", pa, pq)
            artists = _write_table(
                store,
                work / "artists.parquet",
                "SELECT id, name FROM artists ORDER BY id",
                pa.schema([("id", pa.int64()), ("name", pa.string())]),
                pa,
                pq,
            )
            _write_table(
                store,
                work / "tags.parquet",
                "SELECT id, name FROM tags WHERE id IN (SELECT DISTINCT tag_id FROM artist_tags)"
                " ORDER BY id",
                pa.schema([("id", pa.int64()), ("name", pa.string())]),
                pa,
                pq,
            )
            _write_table(
                store,
                work / "artist_tags.parquet",
                "SELECT artist_id, tag_id, sum(count) FROM artist_tags GROUP BY artist_id, tag_id"
                " ORDER BY artist_id, tag_id",
                pa.schema(
                    [("artist_id", pa.int64()), ("tag_id", pa.int64()), ("count", pa.int64())]
                ),
                pa,
                pq,
            )
            reference = store.conn.execute(
                f"SELECT max(listened_at) FROM listens WHERE {USABLE}"
            ).fetchone()[0]
            summary = ListensExport(
                folder=folder,
                listens=counts[0],
                usable=counts[1],
                listeners=listeners,
                artists=artists,
                buckets=buckets,
                reference_time=None if reference is None else int(reference),
            )
            manifest = {
                "format": FORMAT,
                "listens": summary.listens,
                "usable": summary.usable,
                "listeners": summary.listeners,
                "artists": summary.artists,
                "buckets": buckets,
                "reference_time": summary.reference_time,
            }
            (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise LakeError(f"cannot write the Parquet export to {folder}: {exc}") from exc
    return summary


@contextmanager
def new_folder(folder: Path) -> Iterator[Path]:
    """A hidden staging folder beside `folder` (which must be absent or empty), renamed to
    `folder` when the block completes and removed when it fails: no reader ever sees half of
    an export or a batch."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise LakeError(f"{folder} already exists and is not an empty folder: name a new one")
    parent = folder.absolute().parent
    if not parent.is_dir():
        raise LakeError(f"the folder {parent} does not exist: create it first")
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=parent))
    try:
        yield work
        if folder.exists():
            folder.rmdir()  # empty, checked above
        os.replace(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _write_listens(store: Store, target: Path, buckets: int, pa: Any, ds: Any) -> tuple[int, int]:
    schema = listen_schema()
    # The terms are joined per row (LEFT JOIN: no row means the defaults) and evaluated with
    # the very condition the local engine reads with, so both engines agree on `usable`.
    cursor = store.conn.execute(
        "SELECT listens.listener_id, listens.artist_id, listens.track_id, listens.listened_at,"
        " listens.plays, listens.source,"
        " coalesce(t.personalise, 1) != 0,"
        " EXISTS (SELECT 1 FROM json_each(coalesce(t.ignore_sources, '[]')) j"
        "   WHERE j.value = listens.source),"
        " coalesce(t.half_life_days, ?),"
        f" {USABLE}"
        " FROM listens LEFT JOIN terms t ON t.listener_id = listens.listener_id"
        " ORDER BY listens.id",
        (DEFAULT_HALF_LIFE_DAYS,),
    )
    total, usable = 0, 0
    partitioning = ds.partitioning(pa.schema([("bucket", pa.int32())]), flavor="hive")
    # One write per batch, on this thread: the SQLite cursor may not cross threads, and
    # pyarrow consumes a generator on its own.
    batch = 0
    while rows := cursor.fetchmany(_ROWS_PER_BATCH):
        columns = list(zip(*rows, strict=True))
        flags = [bool(v) for v in columns[9]]
        total += len(rows)
        usable += sum(flags)
        table = pa.table(
            [
                pa.array(columns[0], pa.int64()),
                pa.array(columns[1], pa.int64()),
                pa.array(columns[2], pa.int64()),
                pa.array(columns[3], pa.int64()),
                pa.array(columns[4], pa.int64()),
                pa.array(columns[5], pa.string()),
                pa.array([bool(v) for v in columns[6]], pa.bool_()),
                pa.array([bool(v) for v in columns[7]], pa.bool_()),
                pa.array(columns[8], pa.float64()),
                pa.array(flags, pa.bool_()),
                pa.array([int(v) % buckets for v in columns[0]], pa.int32()),
            ],
            schema=schema,
        )
        ds.write_dataset(
            table,
            target,
            format="parquet",
            partitioning=partitioning,
            basename_template=f"part-{batch:05d}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore",
        )
        batch += 1
    if total == 0:  # write_dataset writes no file for no rows: keep the schema readable
        import pyarrow.parquet as pq

        target.mkdir(parents=True, exist_ok=True)
        pq.write_table(schema.empty_table().drop_columns(["bucket"]), target / "empty.parquet")
    return total, usable


def _write_listeners(store: Store, target: Path, pa: Any, pq: Any) -> int:
    rows = store.conn.execute(
        "SELECT l.id, l.name, coalesce(t.personalise, 1) != 0, coalesce(t.half_life_days, ?),"
        " coalesce(t.ignore_sources, '[]') FROM listeners l"
        " LEFT JOIN terms t ON t.listener_id = l.id ORDER BY l.id",
        (DEFAULT_HALF_LIFE_DAYS,),
    ).fetchall()
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("name", pa.string()),
            ("personalise", pa.bool_()),
            ("half_life_days", pa.float64()),
            ("ignore_sources", pa.list_(pa.string())),
        ]
    )
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [[] for _ in range(5)]
    table = pa.table(
        [
            pa.array(columns[0], pa.int64()),
            pa.array(columns[1], pa.string()),
            pa.array([bool(v) for v in columns[2]], pa.bool_()),
            pa.array(columns[3], pa.float64()),
            pa.array([json.loads(v) for v in columns[4]], pa.list_(pa.string())),
        ],
        schema=schema,
    )
    pq.write_table(table, target)
    return len(rows)


def _write_table(store: Store, target: Path, query: str, schema: Any, pa: Any, pq: Any) -> int:
    rows = store.conn.execute(query).fetchall()
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    table = pa.table(
        [pa.array(list(c), f.type) for c, f in zip(columns, schema, strict=True)], schema=schema
    )
    pq.write_table(table, target)
    return len(rows)


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of an export folder, or LakeError when the folder is not one."""
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LakeError(
            f"{folder} is not a tastemaker listens export (no readable {MANIFEST}): write one"
            " with `tastemaker export-listens --parquet DIR`"
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise LakeError(f"{path} is not a {FORMAT} manifest: re-export with this tastemaker")
    return manifest
