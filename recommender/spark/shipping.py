"""Files for a Spark job's tasks, sent through Spark's own file distribution and checked where
they land, for clusters whose executors do not share the driver's filesystem.

On the driver, an `Outbox` gathers one job's files in a staging folder, each under a name unique
to the job (SparkFiles is one flat folder per executor, and Spark refuses a second file of the
same name), and `send` hands each to `SparkContext.addFile`: Spark serves it from the driver and
every executor fetches it before its first task of the job (a `local[...]` master copies it into
the driver's own SparkFiles folder instead). `Shipment` is the plain description the tasks get
with the job's settings: where each file belongs, its size, and its sha256 where one was asked
for.

On an executor, `receive` lays the files out as they were staged, in one folder of the
executor's SparkFiles directory (hard links to Spark's copies, so nothing is copied twice), after
checking each file's size and recorded sha256. It does that once per executor and job: the
folder appears under its final name by an atomic rename only when complete and checked, so the
other tasks (and Python workers) of that executor find it ready, and a torn or wrong file is
refused, never used.

The staging folder lives in the driver's SparkFiles directory (under `spark.local.dir`), which
Spark deletes when the context stops: a file added to a context must stay as long as the
context does, since an executor that joins later (a lost one replaced, dynamic allocation)
fetches every file added so far.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from recommender.errors import LakeError

PREFIX = "tastemaker-"


@dataclass(frozen=True)
class ShippedFile:
    """One file of a shipment: where it goes in the received folder, the name Spark knows it
    by, its size, and its sha256 (None: checked by its own reader, as a bundle's files are)."""

    path: str
    spark_name: str
    size: int
    sha256: str | None


@dataclass(frozen=True)
class Shipment:
    """What a job's tasks need to find and check the files sent with it (plain values)."""

    token: str
    files: tuple[ShippedFile, ...]

    @property
    def folder_name(self) -> str:
        return f"{PREFIX}{self.token}"

    def as_dict(self) -> dict[str, Any]:
        return {"token": self.token, "files": [dict(f.__dict__) for f in self.files]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shipment:
        return cls(str(data["token"]), tuple(ShippedFile(**entry) for entry in data["files"]))

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _relative(path: str) -> PurePosixPath:
    """`path` as a plain relative path inside the folder, or LakeError."""
    relative = PurePosixPath(path)
    if relative.is_absolute() or not relative.parts or ".." in relative.parts:
        raise LakeError(f"{path!r} cannot name a file of a shipment: give a path inside it")
    return relative


class Outbox:
    """The files of one job, staged on the driver until `send`."""

    def __init__(self, context: Any) -> None:
        from pyspark import SparkFiles

        self._context = context
        self.token = uuid.uuid4().hex[:16]
        self.folder = Path(SparkFiles.getRootDirectory()) / f".{PREFIX}{self.token}-staging"
        self.folder.mkdir(parents=True)
        self._entries: dict[str, tuple[Path, bool]] = {}

    def path_for(self, path: str, *, checksum: bool = True) -> Path:
        """Where to write the file that the tasks will find at `path` (it must not exist)."""
        relative = str(_relative(path))
        if relative in self._entries:
            raise LakeError(f"{relative} is already part of this shipment")
        staged = self.folder / f"{PREFIX}{self.token}-{len(self._entries):04d}-{Path(path).name}"
        self._entries[relative] = (staged, checksum)
        return staged

    def add(self, path: str, source: Path, *, checksum: bool = True) -> None:
        """Ship the file `source` as `path`: a hard link when it can be one (no copy), else a
        copy."""
        staged = self.path_for(path, checksum=checksum)
        try:
            os.link(source, staged)
        except OSError:
            shutil.copyfile(source, staged)

    def send(self) -> Shipment:
        """Hand every staged file to Spark; the Shipment is what the tasks need to receive them."""
        files = []
        for relative, (staged, checksum) in self._entries.items():
            if not staged.is_file():
                raise LakeError(f"{relative} was never written to {staged}: nothing was shipped")
            files.append(
                ShippedFile(
                    relative,
                    staged.name,
                    staged.stat().st_size,
                    sha256_of(staged) if checksum else None,
                )
            )
        for entry in files:
            self._context.addFile(str(self.folder / entry.spark_name))
        return Shipment(self.token, tuple(files))


def receive(shipment: Shipment) -> Path:
    """On an executor: the shipment's files in one folder, laid out and checked (see the module
    docstring); LakeError when Spark did not deliver a file whole."""
    from pyspark import SparkFiles

    root = Path(SparkFiles.getRootDirectory())
    final = root / shipment.folder_name
    if final.is_dir():
        return final
    partial = root / f".{shipment.folder_name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        for entry in shipment.files:
            fetched = Path(SparkFiles.get(entry.spark_name))
            _check(fetched, entry)
            target = partial / _relative(entry.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(fetched, target)
            except OSError:
                shutil.copyfile(fetched, target)
        try:
            os.rename(partial, final)
        except OSError:
            if not final.is_dir():  # not another task of this executor that got there first
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return final


def _check(fetched: Path, entry: ShippedFile) -> None:
    hint = "run the job again; if it recurs, check the executors' disks and the network"
    try:
        size = fetched.stat().st_size
    except OSError:
        raise LakeError(
            f"Spark did not deliver {entry.path} ({entry.spark_name}) to this executor: {hint}"
        ) from None
    if size != entry.size:
        raise LakeError(
            f"{entry.path} arrived with {size:,} bytes where the driver sent {entry.size:,}"
            f" (torn or changed): {hint}"
        )
    if entry.sha256 is not None and sha256_of(fetched) != entry.sha256:
        raise LakeError(
            f"{entry.path} arrived with another checksum than the driver sent (torn or"
            f" changed): {hint}"
        )
