"""The aggregation stages of training on Spark: the same `Aggregates` as the local engine.

Spark does the work that grows with the listening: the decayed listener x artist sums, the
distinct listeners per artist, the co-listening pairs (each listener's artists met as one
sorted basket) with their minimum-shared filter and each artist's strongest `k` (a window
ranked per artist), the plays per track, and the tag profiles. The driver receives only the
results (one row per listener-artist pair, the kept artist pairs, one row per track, one per
artist-tag) and lays them out as the arrays `recommender.aggregates` defines, so the model and
the graph cannot tell which engine ran.

Matching the local engine exactly, not nearly:

- decay is the local rule: `plays * 0.5 ** (max(ref - listened_at, 0) / (half_life * 86400))`,
  1 for a listen without a timestamp, `ref` the newest usable listen (so weights agree to
  float rounding; the summation order differs);
- a co-listening score is computed with the same operations in the same order, so it is the
  same double, and ties are broken the way the local block product meets its entries: for
  artist a, the pair product visits a's listeners in id order and each listener's artists in
  id order, and lists each column in the reverse of its first visit. So inside a row entries
  are ordered by (first shared listener, column) descending, and that order breaks ties in
  the rank, as `aggregates.rank_in_row` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from recommender.aggregates import (
    Aggregates,
    CoListening,
    CoListeningSpec,
    audience_of,
    top_tracks_of,
)
from recommender.feedback import ModelOpinions
from recommender.interactions import DAY, from_plays
from recommender.spark.listening import Listening

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# What `compute` wraps each of its stages in, called with the stage's name: a caller that
# times the stages (train's progress, bench/spark_bench.py) passes its own.
StageClock = Callable[[str], AbstractContextManager[object]]


def _untimed(_name: str) -> AbstractContextManager[object]:
    return nullcontext()


def _columns(frame: DataFrame, *names: str) -> dict[str, np.ndarray]:
    """The frame collected to the driver through Arrow, one numpy array per column."""
    table = frame.select(*names).toArrow()
    out: dict[str, np.ndarray] = {}
    for name in names:
        column = table.column(name)
        out[name] = np.asarray(column.to_numpy(zero_copy_only=False))
    return out


def _by_id(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The collected columns with their rows in ascending "id" order."""
    order = np.argsort(columns["id"].astype(np.int64), kind="stable")
    return {name: values[order] for name, values in columns.items()}


def decayed_pairs(listens: DataFrame) -> tuple[DataFrame, int | None]:
    """(listener_id, artist_id, plays) with each listen's decay applied, and the reference time."""
    from pyspark.sql import functions as F

    newest = listens.agg(F.max("listened_at")).first()
    reference = None if newest is None or newest[0] is None else int(newest[0])
    if reference is None:
        factor: Any = F.lit(1.0)
    else:
        age = F.greatest(F.lit(reference) - F.col("listened_at"), F.lit(0)).cast("double")
        fade = F.pow(F.lit(0.5), age / (F.col("half_life_days") * F.lit(float(DAY))))
        factor = F.when(F.col("listened_at").isNull(), F.lit(1.0)).otherwise(fade)
    pairs = listens.groupBy("listener_id", "artist_id").agg(
        F.sum(F.col("plays").cast("double") * factor).alias("plays")
    )
    return pairs, reference


def artist_audiences(audience: DataFrame) -> DataFrame:
    """(artist_id, n): the distinct listeners of each artist (the audience has one row per
    listener-artist pair), the artist popularity and the cosine's denominators."""
    from pyspark.sql import functions as F

    return audience.groupBy("artist_id").agg(F.count("*").alias("n"))


# Audience entries (listener-artist pairs) up to which each listener's artists are sent to
# every task (a broadcast, 8 bytes an entry: ~400 MB at the limit) instead of being shuffled
# to meet the audience on listener. The Last.fm-360K shape has 17.5 M.
BROADCAST_BASKETS = 50_000_000


def co_listening_pairs(
    audience: DataFrame,
    spec: CoListeningSpec,
    counts: DataFrame | None = None,
    *,
    entries: int | None = None,
) -> DataFrame:
    """(a, b, shared, first, score, rank): each artist a's `spec.k` strongest partners b.

    `counts` is `artist_audiences(audience)` when the caller has it already; `entries` the
    number of rows of `audience` when known (it decides the broadcast below).

    Each listener's artists become one sorted array (a basket), and every audience row
    (listener, a) meets its listener's basket and emits the artists after a in it: each
    unordered pair once per shared listener (a < b; sharing is symmetric, so `shared` and
    `first`, the smallest shared listener, are the same either way round), and a generator
    writes both orientations only after the minimum-shared filter has dropped most of them.
    While the baskets are small enough to broadcast (`BROADCAST_BASKETS`), the audience is
    partitioned by artist a before the join, so the pairs are counted where they are made,
    with no shuffle of the ~25 rows per audience row the join emits; past that, Spark joins
    on listener as any join. Collect it inside `whole_aggregation(spark)`: the count meets
    almost every (a, b) key once per listener, so a partial aggregation before it (or before
    the shuffle) only fills a hash map that barely reduces.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if counts is None:
        counts = artist_audiences(audience)
    # One row per artist: small enough to send to every task (a broadcast), so neither the
    # filter here nor the scoring below needs a shuffle of its own.
    sizes = F.broadcast(counts)
    # An artist with fewer listeners than `min_shared` shares that few with anyone: its rows
    # would only swell the pairs.
    wide = audience.join(
        sizes.where(F.col("n") >= spec.min_shared).select("artist_id"), "artist_id", "left_semi"
    )
    baskets = wide.groupBy("listener_id").agg(
        F.array_sort(F.collect_list("artist_id")).alias("artists")
    )
    left = wide.select("listener_id", F.col("artist_id").alias("a"))
    if entries is not None and entries <= BROADCAST_BASKETS:
        baskets = F.broadcast(baskets)
        # A stated number of partitions: adaptive execution would coalesce a repartition
        # by column alone into one task, this small input being the 25x smaller side.
        partitions = int(str(audience.sparkSession.conf.get("spark.sql.shuffle.partitions")))
        left = left.repartition(partitions, "a")
    after_a = F.slice("artists", F.array_position("artists", F.col("a")) + 1, F.size("artists"))
    shared = (
        left.join(baskets, "listener_id")
        .select("a", "listener_id", F.explode(after_a).alias("b"))
        .groupBy("a", "b")
        .agg(F.count("*").alias("shared"), F.min("listener_id").alias("first"))
        .where(F.col("shared") >= spec.min_shared)
    )
    both_ways = F.explode(
        F.array(
            F.struct(F.col("a").alias("x"), F.col("b").alias("y")),
            F.struct(F.col("b").alias("x"), F.col("a").alias("y")),
        )
    ).alias("pair")
    ordered = shared.select(both_ways, "shared", "first").select(
        F.col("pair.x").alias("a"), F.col("pair.y").alias("b"), "shared", "first"
    )
    with_counts = ordered.join(
        sizes.select(F.col("artist_id").alias("a"), F.col("n").alias("na")), "a"
    ).join(sizes.select(F.col("artist_id").alias("b"), F.col("n").alias("nb")), "b")
    s = F.col("shared").cast("double")
    cosine = s / F.sqrt(F.col("na").cast("double") * F.col("nb").cast("double"))
    scored = with_counts.withColumn("score", cosine * s / (s + F.lit(float(spec.shrinkage))))
    order = Window.partitionBy("a").orderBy(
        F.col("score").desc(), F.col("first").desc(), F.col("b").desc()
    )
    # Filtering on row_number itself lets Spark keep each artist's best `k` on the map side
    # before the window's shuffle (its WindowGroupLimit), not sort every kept pair by artist.
    ranked = scored.withColumn("place", F.row_number().over(order))
    kept = ranked.where(F.col("place") <= spec.k)
    return kept.withColumn("rank", F.col("place") - 1).drop("place")


@contextmanager
def whole_aggregation(spark: SparkSession) -> Iterator[None]:
    """Spark's own switch (`spark.sql.execution.bypassPartialAggregation`, Spark 4.1+; older
    versions ignore it) set for the queries run inside the block, then put back: each
    aggregation runs once, after its shuffle, instead of partially before it."""
    key = "spark.sql.execution.bypassPartialAggregation"
    before = spark.conf.get(key, None)
    spark.conf.set(key, "true")
    try:
        yield
    finally:
        if before is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, before)


def tag_weights(artist_tags: DataFrame, n_artists: int) -> DataFrame:
    """(artist_id, tag_id, weight): `features.tag_profile` with every tag kept (min_artists=1):
    log1p(count) * IDF, each artist's row scaled to unit length."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    df = artist_tags.groupBy("tag_id").agg(F.count("*").alias("df"))
    idf = F.log(F.lit(float(1 + n_artists)) / (F.lit(1.0) + F.col("df"))) + F.lit(1.0)
    weighted = artist_tags.join(df, "tag_id").withColumn(
        "w", F.log1p(F.col("count").cast("double")) * idf
    )
    norm = F.sqrt(F.sum(F.col("w") * F.col("w")).over(Window.partitionBy("artist_id")))
    return weighted.withColumn("weight", F.col("w") * (F.lit(1.0) / norm))


def compute(
    listening: Listening,
    spec: CoListeningSpec = CoListeningSpec(),  # noqa: B008 - frozen, so sharing it is safe
    opinions: ModelOpinions | None = None,
    *,
    clock: StageClock = _untimed,
) -> Aggregates:
    """Every aggregate of `listening`, computed by Spark; `opinions` (the store's loves and
    hates) shape the model input as `interactions.load_interactions` does. Each stage runs
    inside `clock(name)`."""
    from pyspark.sql import functions as F

    listens = listening.listens.cache()
    try:
        return _compute(listening, listens, spec, opinions, F, clock)
    finally:
        listens.unpersist()


def _compute(
    listening: Listening,
    listens: DataFrame,
    spec: CoListeningSpec,
    opinions: ModelOpinions | None,
    F: Any,
    clock: StageClock,
) -> Aggregates:
    with clock("catalogue"):
        # Sorted here: a Spark orderBy runs a sampling job and a shuffle for what numpy
        # sorts in milliseconds (one row per artist or listener).
        artists = _by_id(_columns(listening.artists, "id", "name"))
        artist_ids = artists["id"].astype(np.int64)
        listeners = _by_id(_columns(listening.listeners, "id", "name"))
        listener_ids = listeners["id"].astype(np.int64)
        names = [str(n) for n in listeners["name"].tolist()]
    shape = (len(listener_ids), len(artist_ids))

    with clock("reference time"):
        pairs, reference = decayed_pairs(listens)
    pairs = pairs.cache()
    try:
        with clock("weights"):
            got = _columns(pairs, "listener_id", "artist_id", "plays")
            rows = np.searchsorted(listener_ids, got["listener_id"].astype(np.int64))
            cols = np.searchsorted(artist_ids, got["artist_id"].astype(np.int64))
            plays = sp.csr_matrix((got["plays"].astype(np.float64), (rows, cols)), shape=shape)
            plays.sum_duplicates()
        audience = audience_of(plays)
        audience_frame = pairs.where(F.col("plays") > 0).select("listener_id", "artist_id")
        with clock("co-listening"), whole_aggregation(listens.sparkSession):
            kept = _columns(
                co_listening_pairs(audience_frame, spec, entries=audience.nnz),
                "a",
                "b",
                "shared",
                "first",
                "score",
                "rank",
            )
    finally:
        pairs.unpersist()
    # The distinct listeners per artist are the audience's column sizes: the same numbers
    # Spark counted for the co-listening (`artist_audiences`), without collecting them again.
    popularity = np.diff(audience.indptr).astype(np.int64)

    a = np.searchsorted(artist_ids, kept["a"].astype(np.int64))
    b = np.searchsorted(artist_ids, kept["b"].astype(np.int64))
    first = kept["first"].astype(np.int64)
    order = np.lexsort((-b, -first, a))  # rows ascending, then the block product's order
    co = CoListening(
        n_artists=len(artist_ids),
        rows=a[order].astype(np.int64),
        cols=b[order].astype(np.int64),
        shared=kept["shared"][order].astype(np.int64),
        score=kept["score"][order].astype(np.float64),
        rank=kept["rank"][order].astype(np.int64),
        spec=spec,
    )

    with clock("top tracks"):
        tracks = _columns(
            listens.where(F.col("track_id").isNotNull())
            .groupBy("artist_id", "track_id")
            .agg(F.sum("plays").alias("plays")),
            "artist_id",
            "track_id",
            "plays",
        )
    table = np.column_stack([tracks["artist_id"], tracks["track_id"], tracks["plays"]]).astype(
        np.int64
    )

    with clock("tag profile"):
        tag_names, artist_tags, profile = _tags(listening, artist_ids)
    with clock("driver assembly"):
        interactions = from_plays(
            plays,
            listener_ids,
            names,
            artist_ids,
            [str(n) for n in artists["name"].tolist()],
            tag_names,
            artist_tags,
            reference,
            opinions,
        )
        return Aggregates(
            interactions=interactions,
            audience=audience,
            popularity=popularity,
            co_listening=co,
            tag_profile=profile,
            top_tracks=top_tracks_of(table.reshape(-1, 3), artist_ids),
        )


def _tags(
    listening: Listening, artist_ids: np.ndarray
) -> tuple[list[str], sp.csr_matrix, sp.csr_matrix]:
    """(tag names in name order, artist x tag counts, the tag profile computed by Spark)."""
    tags = _columns(listening.tags, "id", "name")
    by_name = sorted(zip(tags["name"].tolist(), tags["id"].tolist(), strict=True))
    tag_names = [str(name) for name, _ in by_name]
    tag_ids = np.array([int(i) for _, i in by_name], dtype=np.int64)
    id_order = np.argsort(tag_ids)
    column_of_sorted = id_order  # position in name order of the k-th smallest id

    def columns_of(ids: np.ndarray) -> np.ndarray:
        return np.asarray(column_of_sorted[np.searchsorted(tag_ids[id_order], ids)])

    weighted = _columns(
        tag_weights(listening.artist_tags, len(artist_ids)),
        "artist_id",
        "tag_id",
        "count",
        "weight",
    )
    rows = np.searchsorted(artist_ids, weighted["artist_id"].astype(np.int64))
    cols = columns_of(weighted["tag_id"].astype(np.int64))
    shape = (len(artist_ids), len(tag_names))
    counts = sp.csr_matrix((weighted["count"].astype(np.float64), (rows, cols)), shape=shape)
    profile = sp.csr_matrix((weighted["weight"].astype(np.float64), (rows, cols)), shape=shape)
    counts.sum_duplicates()
    profile.sum_duplicates()
    return tag_names, counts, profile
