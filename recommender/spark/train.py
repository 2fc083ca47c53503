"""`tastemaker train --engine spark`: the aggregates on Spark, the model and graph as always.

The store's listens are exported as Parquet (`recommender.lake`) to a temporary folder (or read
from `listens`, an export already made), Spark computes the aggregates (`spark.engine`), and
`training.train(..., aggregates=...)` fits the same model and builds the same graph from them,
writing the same bundle. The memory budget is checked before any of it. The store's loves and
hates are read on the driver (they are few) and shape the model input as the local engine does.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from recommender.aggregates import Aggregates
from recommender.feedback import model_opinions
from recommender.generation import check_generation, data_generation
from recommender.graph import GraphParams
from recommender.graph.build import co_listening_spec
from recommender.lake import export_listens
from recommender.models import make_scorer
from recommender.spark.session import spark_session
from recommender.store import Store
from recommender.training import DEFAULT_MODEL, Progress, TrainedModel, check_memory, train


def spark_aggregates(
    store: Store,
    *,
    master: str | None = None,
    listens: Path | None = None,
    progress: Progress | None = None,
) -> Aggregates:
    """The store's aggregates computed by Spark (from the export `listens`, else a fresh one)."""
    from recommender.spark.engine import compute
    from recommender.spark.listening import read_export

    say = progress or (lambda _line: None)
    spark = spark_session(master)
    spec = co_listening_spec(GraphParams())
    with tempfile.TemporaryDirectory(prefix="tastemaker-listens-") as scratch:
        folder = listens
        if folder is None:
            started = time.perf_counter()
            folder = Path(scratch) / "listens"
            done = export_listens(store, folder)
            say(f"train: export {time.perf_counter() - started:.1f} s ({done.describe()})")

        @contextmanager
        def clock(stage: str) -> Iterator[None]:
            began = time.perf_counter()
            yield
            say(f"train: spark {stage} {time.perf_counter() - began:.1f} s")

        started = time.perf_counter()
        aggregates = compute(read_export(spark, folder), spec, model_opinions(store), clock=clock)
        pairs = len(aggregates.co_listening.rows)
        say(f"train: spark aggregates {time.perf_counter() - started:.1f} s ({pairs:,} pairs)")
    return aggregates


def train_on_spark(
    store: Store,
    *,
    master: str | None = None,
    listens: Path | None = None,
    model: str = DEFAULT_MODEL,
    deterministic: bool = False,
    progress: Progress | None = None,
    memory_budget: int | None = None,
) -> TrainedModel:
    """`training.train` with the aggregates computed by Spark (see the module docstring).

    The memory budget is checked first, from the store's row counts (the same estimate
    `train` checks), so a store too big for this machine fails at once, not after the
    export and minutes of Spark work; `train` is handed that estimate rather than counting
    the rows again."""
    estimate = check_memory(store, make_scorer(model).config, memory_budget, engine="spark")
    # The listens are read (exported) before `train` reads the forget generation itself, so
    # check here that no forget landed while Spark worked: those listens must not be trained on.
    seen = data_generation(store)
    aggregates = spark_aggregates(store, master=master, listens=listens, progress=progress)
    check_generation(store, seen)
    return train(
        store,
        model=model,
        deterministic=deterministic,
        progress=progress,
        memory_budget=memory_budget,
        aggregates=aggregates,
        checked=estimate,
    )
