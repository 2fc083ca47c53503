"""Playlists for every listener as one batch job: in this process, or on Spark.

`batch_playlists(store, out)` builds one playlist per listener through the very
`build.build_playlist` that `tastemaker playlist` uses (same rules, exact unexpected share,
reasons), with every playlist made for the same moment (`made_at`, default now), and writes

    out/playlists/part-*.jsonl   one line per built playlist: its JSPF document
    out/summary/part-*.parquet   one row per listener: listener, playlist_id, familiar,
                                 discovery, unexpected (tracks of each kind), tracks, notes
                                 (a list), error (null, or why no playlist was built)

A listener whose playlist cannot be built is a summary row with the error, never a failed job.

With `engine="spark"` the listeners are a DataFrame and `mapInPandas` builds a partition at a
time: the job's settings (store path, bundle path, model id, moment, length) are broadcast,
and each task opens the store and memory-maps the model bundle once (bundle format 2: the
arrays are not copied, the OS shares their pages between tasks on a machine). Workers must see
the store and the bundle at the same paths (local mode, or a shared filesystem); scheduling,
partitioning and the writes are Spark's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playlists.build import build_playlist
from playlists.export.jspf import to_jspf_dict
from playlists.model import KINDS, Playlist
from playlists.request import DEFAULT_LENGTH
from recommender.errors import LakeError
from recommender.lake import new_folder, require_pyarrow
from recommender.store import Store
from recommender.training import TrainedModel, load_model

if TYPE_CHECKING:
    import pandas as pd

ENGINES = ("local", "spark")
SUMMARY_COLUMNS = (
    "listener",
    "playlist_id",
    *(str(kind) for kind in KINDS),
    "tracks",
    "notes",
    "error",
)
SPARK_SCHEMA = (
    "listener string, playlist_id string, "
    + ", ".join(f"{kind} int" for kind in KINDS)
    + ", tracks int, notes array<string>, error string, jspf string"
)


@dataclass(frozen=True)
class BatchReport:
    """What one batch run did."""

    out: Path
    engine: str
    listeners: int
    built: int
    failed: int
    seconds: float
    model_id: str

    def describe(self) -> str:
        return (
            f"built {self.built:,} playlists of {self.listeners:,} listeners"
            f" ({self.failed:,} could not be built: see error in the summary) with the"
            f" {self.engine} engine in {self.seconds:.1f} s into {self.out}"
        )


@dataclass(frozen=True)
class _Job:
    """What every task needs, as plain values (this is what Spark broadcasts)."""

    store_path: str
    bundle_path: str
    model_id: str
    made_at: int
    length: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def summary_row(listener: str, playlist: Playlist | None, error: str | None) -> dict[str, Any]:
    """One summary row (with the JSPF line, or None when nothing was built)."""
    row: dict[str, Any] = {"listener": listener, "error": error}
    row["playlist_id"] = None if playlist is None else playlist.id
    for kind in KINDS:
        row[str(kind)] = 0 if playlist is None else playlist.count(kind)
    row["tracks"] = 0 if playlist is None else len(playlist.tracks)
    row["notes"] = [] if playlist is None else list(playlist.notes)
    row["jspf"] = (
        None
        if playlist is None
        else json.dumps(to_jspf_dict(playlist), ensure_ascii=False, separators=(",", ":"))
    )
    return row


def build_rows(
    store: Store, model: TrainedModel, listeners: list[str], made_at: int, length: int
) -> Iterator[dict[str, Any]]:
    """A summary row per listener; a failure is that listener's row, not the batch's end."""
    for listener in listeners:
        try:
            playlist = build_playlist(
                store, listener, length, model=model, made_at=made_at, save=False
            )
        except Exception as exc:  # noqa: BLE001 - one listener's failure is data, not a crash
            yield summary_row(listener, None, f"{type(exc).__name__}: {exc}")
        else:
            yield summary_row(listener, playlist, None)


def batch_playlists(
    store: Store,
    out: Path,
    *,
    engine: str = "local",
    master: str | None = None,
    length: int = DEFAULT_LENGTH,
    made_at: int | None = None,
    partitions: int | None = None,
    listeners: Sequence[str] | None = None,
) -> BatchReport:
    """A playlist for every listener of the store (or of `listeners`), written under `out`
    (absent or empty)."""
    if engine not in ENGINES:
        raise LakeError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    require_pyarrow()
    out = Path(out)
    if store.path is None:
        raise LakeError("batch playlists need a store on disk: pass --db PATH")
    model = load_model(store)
    job = _Job(
        store_path=str(store.path),
        bundle_path=str(model.path),
        model_id=model.model_id,
        made_at=int(time.time()) if made_at is None else int(made_at),
        length=length,
    )
    if listeners is None:
        names = [r[0] for r in store.conn.execute("SELECT name FROM listeners ORDER BY id")]
    else:
        names = list(listeners)
    started = time.perf_counter()
    with new_folder(out) as work:
        if engine == "spark":
            built, failed = _on_spark(job, names, work, master, partitions)
        else:
            built, failed = _in_process(store, model, job, names, work)
    return BatchReport(
        out, engine, len(names), built, failed, time.perf_counter() - started, job.model_id
    )


def _in_process(
    store: Store, model: TrainedModel, job: _Job, listeners: list[str], work: Path
) -> tuple[int, int]:
    pa = require_pyarrow()
    import pyarrow.parquet as pq

    rows = list(build_rows(store, model, listeners, job.made_at, job.length))
    (work / "playlists").mkdir()
    (work / "summary").mkdir()
    with open(work / "playlists" / "part-00000.jsonl", "w", encoding="utf-8") as lines:
        for row in rows:
            if row["jspf"] is not None:
                lines.write(row["jspf"] + "\n")
    table = pa.table(
        {name: [row[name] for row in rows] for name in SUMMARY_COLUMNS},
        schema=_summary_schema(pa),
    )
    pq.write_table(table, work / "summary" / "part-00000.parquet")
    built = sum(1 for row in rows if row["error"] is None)
    return built, len(rows) - built


def _summary_schema(pa: Any) -> Any:
    return pa.schema(
        [
            ("listener", pa.string()),
            ("playlist_id", pa.string()),
            *[(str(kind), pa.int32()) for kind in KINDS],
            ("tracks", pa.int32()),
            ("notes", pa.list_(pa.string())),
            ("error", pa.string()),
        ]
    )


def _partition_builder(settings: Any) -> Any:
    """The function `mapInPandas` runs on each partition (it must be picklable by Spark's
    cloudpickle: a closure over the broadcast, nothing else)."""

    def build(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import pandas as pd

        job = _Job(**settings.value)
        with Store.open(job.store_path) as store:
            model = load_model(store, model_id=job.model_id)
            for batch in batches:
                names = [str(n) for n in batch["listener"].tolist()]
                rows = list(build_rows(store, model, names, job.made_at, job.length))
                frame = pd.DataFrame(rows, columns=[*SUMMARY_COLUMNS, "jspf"])
                for kind in (*(str(k) for k in KINDS), "tracks"):
                    frame[kind] = frame[kind].astype("int32")
                yield frame

    return build


def _on_spark(
    job: _Job, listeners: list[str], work: Path, master: str | None, partitions: int | None
) -> tuple[int, int]:
    from pyspark.sql import functions as F

    from recommender.spark.session import spark_session

    spark = spark_session(master)
    settings = spark.sparkContext.broadcast(job.as_dict())
    count = partitions or max(1, spark.sparkContext.defaultParallelism)
    frame = spark.createDataFrame([(name,) for name in listeners], "listener string")
    built = frame.repartition(count).mapInPandas(_partition_builder(settings), SPARK_SCHEMA)
    built = built.cache()
    try:
        built.where(F.col("jspf").isNotNull()).select("jspf").write.text(
            str(work / "playlists"), compression="none"
        )
        built.drop("jspf").write.parquet(str(work / "summary"))
        totals = built.agg(
            F.count("*").alias("n"), F.sum(F.col("error").isNull().cast("int")).alias("ok")
        ).first()
    finally:
        built.unpersist()
        settings.unpersist()
    n, ok = (0, 0) if totals is None else (int(totals["n"]), int(totals["ok"] or 0))
    for name in ("playlists", "summary"):  # Spark's bookkeeping files are not part of the layout
        for extra in (work / name).glob("*"):
            if extra.name.startswith(("_", ".")):
                extra.unlink()
    _rename_text_parts(work / "playlists")
    return ok, n - ok


def _rename_text_parts(folder: Path) -> None:
    """Spark names text parts part-*.txt; these lines are JSON, so say so."""
    for part in folder.glob("part-*"):
        if part.suffix != ".jsonl":
            part.rename(part.with_suffix(".jsonl"))
