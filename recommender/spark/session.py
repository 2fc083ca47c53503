"""Starting Spark: pyspark and Java 17+ checked first, so a missing piece is one clear error.

The master is, in order: the `master` argument (`--master URL`), `$SPARK_MASTER`, `local[*]`.
Scheduling, partitioning and shuffles are Spark's; the settings here only keep a local session
small (no UI, 64 shuffle partitions that adaptive execution coalesces, not a cluster's 200)
and make its arithmetic match the local engine's (UTC session time zone, so timestamps convert
the same on every machine).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

from recommender.errors import SparkUnavailable

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MASTER_ENV = "SPARK_MASTER"
DEFAULT_MASTER = "local[*]"
MIN_JAVA = 17
LOCAL_SHUFFLE_PARTITIONS = 64
INSTALL_JAVA = (
    "install Java 17 or newer (Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless)"
    " or point JAVA_HOME at one"
)


def java_version() -> int | None:
    """The major version of the Java Spark would start ($JAVA_HOME, else PATH), None if none."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.path.exists(java):
        return None
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if not found:
        return None
    major = int(found.group(1))
    # Java 8 and older call themselves "1.8".
    return int(found.group(2) or 0) if major == 1 else major


def check_spark() -> None:
    """SparkUnavailable unless pyspark imports and Java 17+ is there."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise SparkUnavailable(
            "the Spark engine needs pyspark: pip install 'tastemaker[spark]'"
            " (or use --engine local)"
        ) from exc
    version = java_version()
    if version is None:
        raise SparkUnavailable(f"the Spark engine needs Java, and none was found: {INSTALL_JAVA}")
    if version < MIN_JAVA:
        raise SparkUnavailable(
            f"the Spark engine needs Java {MIN_JAVA}+, this machine has Java {version}:"
            f" {INSTALL_JAVA}"
        )


def resolve_master(master: str | None = None) -> str:
    """`master`, else $SPARK_MASTER, else local[*]."""
    return master or os.environ.get(MASTER_ENV) or DEFAULT_MASTER


def spark_session(
    master: str | None = None, *, shuffle_partitions: int | None = None
) -> SparkSession:
    """The SparkSession for `master` (checked first; an existing session is reused)."""
    check_spark()
    from pyspark.sql import SparkSession

    chosen = resolve_master(master)
    builder = (
        SparkSession.builder.master(chosen)
        .appName("tastemaker")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "2g"))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if chosen.startswith("local") and not os.environ.get("PYSPARK_PYTHON"):
        # Local workers run this interpreter (the one with tastemaker installed), not
        # whatever `python3` is first on PATH; a cluster sets PYSPARK_PYTHON itself.
        os.environ["PYSPARK_PYTHON"] = sys.executable
    if shuffle_partitions is None and chosen.startswith("local"):
        # Spark's 200 is for clusters. Fewer is not better either: the co-listening join
        # writes ~25x the rows it reads, and 8 partitions left each aggregation task a hash
        # map that spilled gigabytes. Adaptive execution (on, and kept on) coalesces the
        # partitions of small shuffles to a few, so 64 costs little where data is small.
        shuffle_partitions = LOCAL_SHUFFLE_PARTITIONS
    builder = builder.config("spark.sql.adaptive.enabled", "true").config(
        "spark.sql.adaptive.coalescePartitions.enabled", "true"
    )
    if shuffle_partitions is not None:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # Spark reports a failed JVM start as a bare Exception
        raise SparkUnavailable(
            f"Spark could not start with master {chosen}: {exc}; check --master / {MASTER_ENV}"
        ) from exc
    session.sparkContext.setLogLevel("ERROR")
    return session
