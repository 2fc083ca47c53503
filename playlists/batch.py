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
time; the job's settings are broadcast, and each task opens the store and memory-maps the
model bundle once (bundle format 2: the arrays are not copied, the OS shares their pages
between tasks on a machine). Where the tasks find them depends on `ship`:

- `snapshot`: the driver takes one consistent snapshot of the store (`Store.snapshot`, with
  the tables building never reads emptied: `LEFT_OUT`) and ships it with the model bundle's
  files through Spark's own file distribution (`recommender.spark.shipping`: `addFile` on the
  driver; on each executor, once, the files are checked and laid out as a store and a models
  folder). The store snapshot is checked by its sha256, the bundle by the bundle loader itself
  (checksums from the snapshot's model record: torn, tampered and pickled files are refused),
  so the tasks never touch a driver path. For clusters without a shared filesystem.
- `shared`: the tasks open the driver's store and bundle at the driver's paths (one machine, or
  a shared filesystem); nothing is copied.
- `auto` (the default): `shared` when the master is `local` or `local[...]` (the tasks run on
  this machine, and a snapshot would copy the whole store for nothing), else `snapshot`.

Scheduling, partitioning, file distribution and the writes are Spark's. A library error a task
raises (a refused bundle, a store the executor cannot see) ends the job as that same error.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playlists.build import build_playlist
from playlists.export.jspf import to_jspf_dict
from playlists.model import KINDS, Playlist
from playlists.request import DEFAULT_LENGTH
from recommender.bundle import listed_files
from recommender.errors import LakeError, StoreError, TastemakerError
from recommender.lake import new_folder, require_pyarrow
from recommender.spark.shipping import Outbox, Shipment, receive
from recommender.store import Store
from recommender.training import TrainedModel, load_model

if TYPE_CHECKING:
    import pandas as pd

ENGINES = ("local", "spark")
SHIP_MODES = ("auto", "snapshot", "shared")
# Tables building a playlist never reads, emptied in a shipped snapshot: curators' token and
# session hashes, import and written-file records (paths on the driver's machine), external
# artist ids. tests/test_batch_cluster.py checks that a build reads none of them.
LEFT_OUT = ("artist_external_ids", "curator_sessions", "curators", "imports", "written_files")
SNAPSHOT = "store.db"  # where a task finds the shipped store, and the models beside it
MODELS = "models"
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
    """What one batch run did (`shipped_bytes`: the snapshot and bundle sent to the executors,
    0 when the tasks read the driver's files in place)."""

    out: Path
    engine: str
    listeners: int
    built: int
    failed: int
    seconds: float
    model_id: str
    shipped_bytes: int = 0
    snapshot_seconds: float = 0.0

    def describe(self) -> str:
        shipped = (
            f"; shipped {self.shipped_bytes / 1e6:,.1f} MB of store snapshot and model to the"
            f" executors (made ready in {self.snapshot_seconds:.1f} s)"
            if self.shipped_bytes
            else ""
        )
        return (
            f"built {self.built:,} playlists of {self.listeners:,} listeners"
            f" ({self.failed:,} could not be built: see error in the summary) with the"
            f" {self.engine} engine in {self.seconds:.1f} s into {self.out}{shipped}"
        )


@dataclass(frozen=True)
class _Job:
    """What every task needs, as plain values (this is what Spark broadcasts): the driver's
    store path when the tasks share it, else the shipment (names and checksums, no path)."""

    model_id: str
    made_at: int
    length: int
    store_path: str | None = None
    shipment: dict[str, Any] | None = None

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
    ship: str = "auto",
) -> BatchReport:
    """A playlist for every listener of the store (or of `listeners`), written under `out`
    (absent or empty). `ship` says how Spark's tasks reach the store and the model (see the
    module docstring); the local engine ignores it."""
    if engine not in ENGINES:
        raise LakeError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    if ship not in SHIP_MODES:
        raise LakeError(f"unknown way to ship {ship!r}: use one of {', '.join(SHIP_MODES)}")
    require_pyarrow()
    out = Path(out)
    if store.path is None:
        raise LakeError("batch playlists need a store on disk: pass --db PATH")
    model = load_model(store)
    job = _Job(
        model_id=model.model_id,
        made_at=int(time.time()) if made_at is None else int(made_at),
        length=length,
        store_path=str(store.path),
    )
    if listeners is None:
        names = [r[0] for r in store.conn.execute("SELECT name FROM listeners ORDER BY id")]
    else:
        names = list(listeners)
    started = time.perf_counter()
    shipped = _Shipped()
    with new_folder(out) as work:
        if engine == "spark":
            built, failed, shipped = _on_spark(
                store, model, job, names, work, master, partitions, ship
            )
        else:
            built, failed = _in_process(store, model, job, names, work)
    return BatchReport(
        out,
        engine,
        len(names),
        built,
        failed,
        time.perf_counter() - started,
        job.model_id,
        shipped.bytes,
        shipped.seconds,
    )


@dataclass(frozen=True)
class _Shipped:
    bytes: int = 0
    seconds: float = 0.0


def ships_snapshot(ship: str, master: str) -> bool:
    """Whether a job on `master` ships a snapshot (`ship` auto: not for local[...] masters,
    whose tasks run on this machine and see its files)."""
    if ship == "auto":
        return re.fullmatch(r"local(\[[^\]]*\])?", master) is None
    return ship == "snapshot"


def ship_inputs(context: Any, store: Store, model: TrainedModel) -> Shipment:
    """Send a consistent snapshot of `store` (without `LEFT_OUT`) and `model`'s bundle files to
    the executors of `context`, through SparkContext.addFile."""
    if model.path is None:
        raise LakeError(
            f"model {model.model_id} has no bundle folder to ship: run `tastemaker train`"
        )
    outbox = Outbox(context)
    store.snapshot(outbox.path_for(SNAPSHOT), empty=LEFT_OUT)
    for name in listed_files(model.path):
        # The bundle loader checks these on the executor against the snapshot's model record.
        outbox.add(f"{MODELS}/{model.model_id}/{name}", model.path / name, checksum=False)
    return outbox.send()


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
        with _task_inputs(job) as (store, model):
            for batch in batches:
                names = [str(n) for n in batch["listener"].tolist()]
                rows = list(build_rows(store, model, names, job.made_at, job.length))
                frame = pd.DataFrame(rows, columns=[*SUMMARY_COLUMNS, "jspf"])
                for kind in (*(str(k) for k in KINDS), "tracks"):
                    frame[kind] = frame[kind].astype("int32")
                yield frame

    return build


@contextmanager
def _task_inputs(job: _Job) -> Iterator[tuple[Store, TrainedModel]]:
    """In a task: the store and model, from the shipment or from the driver's paths."""
    if job.shipment is not None:
        folder = receive(Shipment.from_dict(job.shipment))
        store = Store.open(folder / SNAPSHOT, read_only=True)
        models_dir: Path | None = folder / MODELS
    else:
        path = Path(str(job.store_path))
        if not path.is_file():  # Store.open would make an empty store there
            raise StoreError(
                f"cannot see the store at {path} from here: run with --ship snapshot on a"
                " cluster without a shared filesystem"
            )
        store, models_dir = Store.open(path), None
    with store:
        yield store, load_model(store, models_dir=models_dir, model_id=job.model_id)


def _on_spark(
    store: Store,
    model: TrainedModel,
    job: _Job,
    listeners: list[str],
    work: Path,
    master: str | None,
    partitions: int | None,
    ship: str,
) -> tuple[int, int, _Shipped]:
    from pyspark.sql import functions as F

    from recommender.spark.session import spark_session

    spark = spark_session(master)
    context = spark.sparkContext
    shipped = _Shipped()
    if ships_snapshot(ship, str(context.master)):
        started = time.perf_counter()
        shipment = ship_inputs(context, store, model)
        job = replace(job, store_path=None, shipment=shipment.as_dict())
        shipped = _Shipped(shipment.size, time.perf_counter() - started)
    settings = context.broadcast(job.as_dict())
    count = partitions or max(1, context.defaultParallelism)
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
    except Exception as exc:  # Spark reports a task's error as its own exception, as text
        raise task_error(exc) from exc
    finally:
        built.unpersist()
        settings.unpersist()
    n, ok = (0, 0) if totals is None else (int(totals["n"]), int(totals["ok"] or 0))
    for name in ("playlists", "summary"):  # Spark's bookkeeping files are not part of the layout
        for extra in (work / name).glob("*"):
            if extra.name.startswith(("_", ".")):
                extra.unlink()
    _rename_text_parts(work / "playlists")
    return ok, n - ok, shipped


def task_error(exc: Exception) -> TastemakerError:
    """The library error a Spark task raised, found in the text of Spark's exception (the
    task's Python traceback ends `module.ErrorClass: message`), or a LakeError."""
    known = {cls.__name__: cls for cls in _error_classes(TastemakerError)}
    raised = [
        found
        for found in re.finditer(r"(?m)^(?:[\w.]+\.)?(\w+): (.+)$", str(exc))
        if found.group(1) in known
    ]
    if raised:
        name, message = raised[-1].groups()  # the last one printed is the one that ended it
        try:
            return known[name](f"on a Spark executor: {message.strip()}")
        except TypeError:  # an error class that takes more than a message
            pass
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    return LakeError(
        f"the Spark job failed ({lines[0][:300]}): see the Spark log for why, then run it again"
    )


def _error_classes(base: type[TastemakerError]) -> Iterator[type[TastemakerError]]:
    for cls in base.__subclasses__():
        yield cls
        yield from _error_classes(cls)


def _rename_text_parts(folder: Path) -> None:
    """Spark names text parts part-*.txt; these lines are JSON, so say so."""
    for part in folder.glob("part-*"):
        if part.suffix != ".jsonl":
            part.rename(part.with_suffix(".jsonl"))
