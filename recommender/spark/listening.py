"""The listening as Spark reads it, from either layout, as one set of DataFrames.

Two layouts are read:

- a tastemaker export (`tastemaker export-listens --parquet DIR`, `recommender.lake`): the
  listener's terms are columns there, and only rows with `usable` true are kept, exactly the
  rows the local engine reads;
- a ListenBrainz listens dump (the Parquet files of its Spark dumps, `listens_new_schema` in
  listenbrainz-server's `listenbrainz_spark/schema.py`), any folder of Parquet files with at
  least these columns: `listened_at` (timestamp), `user_id` (int), `artist_name` (string),
  `recording_name` (string). The others (`artist_credit_id`, `artist_credit_mbids`,
  `recording_mbid`, `release_mbid`, `release_name`) are not used. A dump carries no terms and
  no tags: every listen is usable, with the default half-life; listeners are named by their
  ListenBrainz user id; artists are keyed by name (`xxhash64(artist_name)`, since unmapped
  listens have no MusicBrainz id) and tracks by artist and recording name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from recommender.errors import LakeError
from recommender.lake import LISTENS, read_manifest
from recommender.terms import DEFAULT_HALF_LIFE_DAYS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

LISTENBRAINZ_COLUMNS = ("listened_at", "user_id", "artist_name", "recording_name")


@dataclass(frozen=True)
class Listening:
    """Usable listens and the catalogue around them, as Spark DataFrames.

    listens: listener_id, artist_id, track_id (nullable), listened_at (nullable), plays,
    half_life_days (usable rows only). listeners: id, name (those who allow personalisation:
    the rows of the model input). artists: id, name. tags: id, name. artist_tags: artist_id,
    tag_id, count.
    """

    listens: DataFrame
    listeners: DataFrame
    artists: DataFrame
    tags: DataFrame
    artist_tags: DataFrame


def read_export(spark: SparkSession, folder: Path) -> Listening:
    """A tastemaker listens export (see `recommender.lake`)."""
    from pyspark.sql import functions as F

    read_manifest(folder)  # refuses anything that is not an export
    root = Path(folder).absolute()
    listens = spark.read.parquet(str(root / LISTENS)).where(F.col("usable"))
    return Listening(
        listens=listens.select(
            "listener_id", "artist_id", "track_id", "listened_at", "plays", "half_life_days"
        ),
        listeners=spark.read.parquet(str(root / "listeners.parquet"))
        .where(F.col("personalise"))
        .select("id", "name"),
        artists=spark.read.parquet(str(root / "artists.parquet")),
        tags=spark.read.parquet(str(root / "tags.parquet")),
        artist_tags=spark.read.parquet(str(root / "artist_tags.parquet")),
    )


def read_listenbrainz(spark: SparkSession, folder: Path) -> Listening:
    """A ListenBrainz listens dump (Parquet, `listens_new_schema`; see the module docstring)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    try:
        raw = spark.read.option("recursiveFileLookup", "true").parquet(str(Path(folder).absolute()))
    except Exception as exc:  # Spark's AnalysisException: no Parquet there
        raise LakeError(
            f"{folder} holds no Parquet files Spark can read: point at a ListenBrainz listens"
            " dump folder"
        ) from exc
    missing = [c for c in LISTENBRAINZ_COLUMNS if c not in raw.columns]
    if missing:
        raise LakeError(
            f"{folder} is not a ListenBrainz listens dump: it lacks {', '.join(missing)}"
        )
    rows = raw.where(F.col("user_id").isNotNull() & F.col("artist_name").isNotNull()).select(
        F.col("user_id").cast(T.LongType()).alias("listener_id"),
        F.xxhash64("artist_name").alias("artist_id"),
        F.col("artist_name"),
        F.when(
            F.col("recording_name").isNotNull(), F.xxhash64("artist_name", "recording_name")
        ).alias("track_id"),
        F.col("listened_at").cast(T.LongType()).alias("listened_at"),
        F.lit(1).cast(T.LongType()).alias("plays"),
        F.lit(DEFAULT_HALF_LIFE_DAYS).alias("half_life_days"),
    )
    empty_tags = spark.createDataFrame([], "id long, name string")
    return Listening(
        listens=rows.drop("artist_name"),
        listeners=rows.select(
            F.col("listener_id").alias("id"), F.col("listener_id").cast("string").alias("name")
        ).distinct(),
        artists=rows.groupBy(F.col("artist_id").alias("id")).agg(
            F.min("artist_name").alias("name")
        ),
        tags=empty_tags,
        artist_tags=spark.createDataFrame([], "artist_id long, tag_id long, count long"),
    )
