"""Saving and loading a trained model without pickle, as memory-mapped arrays.

A bundle (format 2) is a folder: one `.npy` file per array, a few small JSON documents, and
`manifest.json` naming every file with its size and sha256, every array with its dtype, shape
and allowed range. It is written into a temporary folder and renamed into place, so a
half-written bundle is never seen. Loading maps the arrays (`np.memmap`, read-only): nothing is
read until a query touches it, so a playlist reads the rows it needs and not the whole model.

Threat model. A bundle on disk may be torn (a crash, a full disk, a partial copy), changed by
accident (disk errors, an edit by hand), from another store or training run, or replaced by
someone trying to make tastemaker misbehave. What holds in each case:

- Nothing loaded can run code: arrays are read with numpy's header parser and mapped as plain
  numbers (an object dtype, i.e. a pickle, is refused before anything is mapped); JSON is only
  JSON. Only regular files are opened, never through a symlink, and every read is bounded: a
  manifest pointing at `/dev/zero` or a FIFO is refused at once, never read.
- Torn, changed and foreign files are found by their checksums. Hashing hundreds of MB on every
  playlist call would cost more than the playlist, so a bundle is verified once (sha256 of
  every file, every float finite, every index inside its declared range) when it is written or
  first used, and a stamp (`.verified`) records the size, inode and modification and change
  times each file had then; later loads re-verify only when any of those changed. The change
  time cannot be set back by a user, so an edit always triggers a full check. The manifest's
  own sha256 is kept in the store's model record, so a manifest rewritten to match tampered
  files is caught on every load, cheaply (it is small).
- Every load still checks what is cheap: each file's size, dtype and shape against the
  manifest, every offsets array (CSR indptr) whole, so no slice can run past its data; the
  graph and model check the indices of each row they read before using it, so even a file
  swapped between two loads under an old stamp gives `BundleError`, never a crash or a quietly
  wrong model.
- Not covered: someone who can rewrite both the store and the bundle can make any model they
  like (they could equally replace the program); the checks keep such a model from running
  code or reading out of bounds, not from being wrong.

Format 1 bundles (one `.npz` and JSON mappings) are refused: "run `tastemaker train`".
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npy_format

from recommender.errors import BundleError, ModelNotSaved

BUNDLE_FORMAT = 2
MANIFEST = "manifest.json"
STAMP = ".verified"
MAX_MANIFEST_BYTES = 4 << 20  # a manifest lists files and settings: a few KB
MAX_DOCUMENT_BYTES = 64 << 20  # scenes and settings
MAX_NPY_HEADER = 10_000
_CHUNK = 8 << 20
HINT = "run `tastemaker train` to make a new one"


@dataclass(frozen=True)
class Bound:
    """The range an integer array's values must lie in: low <= value < high."""

    high: int
    low: int = 0


@dataclass(frozen=True)
class Offsets:
    """An offsets (CSR indptr) array into `target`: starts at 0, never decreases, ends at
    len(target). Checked on every load."""

    target: str


Check = Bound | Offsets


def library_versions() -> dict[str, str]:
    versions = {}
    for dist in ("tastemaker", "lightfm-next", "numpy", "scipy", "networkx"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "unknown"
    return versions


def _valid_name(name: str) -> bool:
    return (
        bool(name)
        and Path(name).name == name
        and not name.startswith(".")
        and name not in (MANIFEST,)
        and "\x00" not in name
    )


# -- writing ---------------------------------------------------------------------------------


def write_bundle(
    target: Path,
    arrays: Mapping[str, np.ndarray],
    documents: Mapping[str, Any],
    manifest: Mapping[str, Any],
    checks: Mapping[str, Check] | None = None,
) -> tuple[Path, str]:
    """Write a bundle atomically into `target` (which must not exist yet).

    `arrays` become `<name>.npy`, `documents` `<name>.json`; `checks` declare index ranges and
    offsets arrays (verified with the checksums). Returns the folder and the sha256 of its
    manifest (keep it: `read_bundle(..., manifest_sha256=...)` checks it).
    """
    checks = dict(checks or {})
    for name, array in arrays.items():
        if not _valid_name(name):
            raise BundleError(f"{name!r} cannot name a bundle array")
        if array.dtype.hasobject:
            raise BundleError(f"array {name} holds Python objects; bundles hold numbers only")
        if not _finite(array):
            raise BundleError(f"array {name} has non-finite values: the fit diverged, not saved")
    for name, check in checks.items():
        problem = _check_values(name, arrays[name], check, arrays)
        if problem:
            raise BundleError(f"array {name} is out of its range ({problem}): not saved")
    staging = target.parent / f".{target.name}.partial"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        files: dict[str, dict[str, Any]] = {}
        specs: dict[str, dict[str, Any]] = {}
        for name, array in arrays.items():
            path = staging / f"{name}.npy"
            contiguous = np.ascontiguousarray(array)
            np.save(path, contiguous, allow_pickle=False)
            specs[name] = {
                "file": path.name,
                "dtype": contiguous.dtype.str,
                "shape": list(contiguous.shape),
                **_check_spec(checks.get(name)),
            }
        for name, document in documents.items():
            if not _valid_name(name):
                raise BundleError(f"{name!r} cannot name a bundle document")
            body = json.dumps(document, ensure_ascii=False, allow_nan=False)
            (staging / f"{name}.json").write_text(body, "utf-8")
        for path in sorted(staging.iterdir()):
            files[path.name] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        full = {
            "format": BUNDLE_FORMAT,
            **manifest,
            "libraries": library_versions(),
            "arrays": specs,
            "documents": {name: f"{name}.json" for name in documents},
            "files": files,
        }
        text = json.dumps(full, indent=1, ensure_ascii=False, allow_nan=False).encode("utf-8")
        (staging / MANIFEST).write_bytes(text)
        for path in staging.iterdir():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        digest = hashlib.sha256(text).hexdigest()
        _write_stamp(staging, digest, files)  # just hashed: the first load need not hash again
        os.replace(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        # numpy reports a short write without an errno ("N requested and M written"), so the
        # disk is asked directly.
        disk_full = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) or _nearly_full(target)
        why = "the disk is full" if disk_full else (exc.strerror or str(exc))
        remedy = "free some space" if disk_full else "make the models folder writable"
        raise ModelNotSaved(
            f"the model could not be written to {target.parent} ({why}): nothing was saved and "
            f"the previous model is still used; {remedy} and run `tastemaker train` again"
        ) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target, digest


def _nearly_full(target: Path) -> bool:
    try:
        return shutil.disk_usage(target.parent).free < _CHUNK
    except OSError:
        return False


def _check_spec(check: Check | None) -> dict[str, Any]:
    if isinstance(check, Bound):
        return {"low": check.low, "high": check.high}
    if isinstance(check, Offsets):
        return {"offsets_of": check.target}
    return {}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with _open_regular(path) as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bundle:
    """A verified bundle: its manifest, its arrays (read-only memory maps) and documents."""

    folder: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    arrays: Mapping[str, np.ndarray]
    documents: Mapping[str, Any]


def read_bundle(folder: Path, manifest_sha256: str | None = None) -> Bundle:
    """Open a bundle (see the module docstring for what is checked); BundleError for anything
    suspect, with what to do next."""
    folder = Path(folder)
    raw, manifest = _manifest(folder)
    digest = hashlib.sha256(raw).hexdigest()
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        old = isinstance(manifest, dict) and manifest.get("format") == 1
        what = "an old (format 1) model bundle" if old else "not a tastemaker model bundle"
        raise BundleError(f"{folder} is {what}: {HINT}")
    if manifest_sha256 is not None and digest != manifest_sha256:
        raise BundleError(
            f"{folder / MANIFEST} is not the manifest this model was recorded with "
            f"(changed or from another bundle): {HINT}"
        )
    files, specs, documents = _listing(folder, manifest)
    stats = {
        name: _stat_regular(folder / name, int(entry["bytes"])) for name, entry in files.items()
    }
    arrays = {name: _map(folder, name, spec) for name, spec in specs.items()}
    if not _stamp_matches(folder, digest, stats):
        _verify(folder, files, specs, arrays)
        try:
            _write_stamp(folder, digest, files)
        except OSError:
            pass  # a read-only bundle is verified on every load instead
    for name, spec in specs.items():
        if "offsets_of" in spec:
            problem = _check_values(name, arrays[name], Offsets(spec["offsets_of"]), arrays)
            if problem:
                raise BundleError(f"array {name} in {folder} is inconsistent ({problem}): {HINT}")
    loaded = {name: _document(folder / file_name, name) for name, file_name in documents.items()}
    return Bundle(folder, manifest, digest, arrays, loaded)


def listed_files(folder: Path) -> list[str]:
    """The files a bundle is made of: its manifest and every file the manifest lists (never the
    `.verified` stamp, which only holds for the copies it was written beside). Copy these and
    `read_bundle` on the copy checks them all again."""
    folder = Path(folder)
    _, manifest = _manifest(folder)
    if not isinstance(manifest, dict):
        raise BundleError(f"{folder} is not a tastemaker model bundle: {HINT}")
    files, _, _ = _listing(folder, manifest)
    return [MANIFEST, *sorted(files)]


def _manifest(folder: Path) -> tuple[bytes, Any]:
    """The manifest's bytes (bounded) and what they parse to."""
    raw = _read_bounded(folder / MANIFEST, MAX_MANIFEST_BYTES, "manifest")
    try:
        return raw, json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BundleError(f"{folder} has no readable manifest ({exc}): {HINT}") from None


def _listing(
    folder: Path, manifest: dict[str, Any]
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], dict[str, str]]:
    files, specs, documents = (
        manifest.get("files"),
        manifest.get("arrays"),
        manifest.get("documents", {}),
    )
    if not (isinstance(files, dict) and isinstance(specs, dict) and isinstance(documents, dict)):
        raise BundleError(f"{folder}'s manifest does not list its files: {HINT}")
    for name, entry in files.items():
        if (
            not isinstance(name, str)
            or not _valid_name(name)
            or not isinstance(entry, dict)
            or not isinstance(entry.get("bytes"), int)
            or not isinstance(entry.get("sha256"), str)
        ):
            raise BundleError(f"{folder}'s manifest lists a file it cannot have ({name!r}): {HINT}")
    for name, spec in specs.items():
        if (
            not isinstance(spec, dict)
            or spec.get("file") not in files
            or not isinstance(spec.get("dtype"), str)
            or not isinstance(spec.get("shape"), list)
            or not all(isinstance(d, int) and d >= 0 for d in spec["shape"])
            or ("offsets_of" in spec and spec["offsets_of"] not in specs)
        ):
            raise BundleError(f"array {name} is not described properly in {folder}: {HINT}")
    for file_name in documents.values():
        if file_name not in files:
            raise BundleError(f"{folder} is missing {file_name}: the bundle is torn; {HINT}")
    return files, specs, documents


def _open_regular(path: Path) -> Any:
    """A binary handle on a regular file, opened without following a symlink and without
    blocking (a FIFO would otherwise wait forever)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise BundleError(
            f"{path.parent} is missing {path.name}: the bundle is torn; {HINT}"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise BundleError(
                f"{path} is a symlink; a bundle holds regular files only: {HINT}"
            ) from None
        raise BundleError(f"{path} cannot be opened ({exc.strerror}): {HINT}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BundleError(
            f"{path} is not a regular file; a bundle holds regular files only: {HINT}"
        )
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _read_bounded(path: Path, limit: int, what: str) -> bytes:
    with _open_regular(path) as handle:
        data: bytes = handle.read(limit + 1)
    if len(data) > limit:
        raise BundleError(f"{path} is far too large for a bundle {what}: {HINT}")
    return data


def _stat_regular(path: Path, size: int) -> list[int]:
    with _open_regular(path) as handle:
        found = os.fstat(handle.fileno())
    if found.st_size != size:
        raise BundleError(
            f"{path} has {found.st_size} bytes where the manifest says {size}: "
            f"the bundle is torn or changed; {HINT}"
        )
    return _signature(found)


def _signature(found: os.stat_result) -> list[int]:
    return [found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino, found.st_dev]


def _stamp_matches(folder: Path, digest: str, stats: dict[str, list[int]]) -> bool:
    try:
        stamp = json.loads(_read_bounded(folder / STAMP, MAX_MANIFEST_BYTES, "stamp"))
    except (BundleError, ValueError, UnicodeDecodeError, RecursionError):
        return False
    return (
        isinstance(stamp, dict) and stamp.get("manifest") == digest and stamp.get("files") == stats
    )


def _write_stamp(folder: Path, digest: str, files: Mapping[str, Any]) -> None:
    stats = {name: _signature(os.stat(folder / name, follow_symlinks=False)) for name in files}
    partial = folder / f"{STAMP}.partial"
    partial.write_text(json.dumps({"manifest": digest, "files": stats}), "utf-8")
    os.replace(partial, folder / STAMP)


def _verify(
    folder: Path,
    files: dict[str, dict[str, Any]],
    specs: dict[str, dict[str, Any]],
    arrays: Mapping[str, np.ndarray],
) -> None:
    """The full check: every checksum, every float finite, every index in its range."""
    for name, entry in files.items():
        if _sha256(folder / name) != entry["sha256"]:
            raise BundleError(
                f"{folder / name} does not match its checksum (changed or torn); {HINT}"
            )
    for name, spec in specs.items():
        array = arrays[name]
        if not _finite(array):
            raise BundleError(f"array {name} in {folder} has non-finite values: {HINT}")
        if "high" in spec:
            check: Check = Bound(int(spec["high"]), int(spec.get("low", 0)))
        elif "offsets_of" in spec:
            check = Offsets(spec["offsets_of"])
        else:
            continue
        problem = _check_values(name, array, check, arrays)
        if problem:
            raise BundleError(f"array {name} in {folder} is out of range ({problem}): {HINT}")


def _chunks(array: np.ndarray) -> Iterator[np.ndarray]:
    flat = array.reshape(-1)
    step = max(1, _CHUNK // max(1, array.itemsize))
    for start in range(0, len(flat), step):
        yield flat[start : start + step]


def _finite(array: np.ndarray) -> bool:
    if not np.issubdtype(array.dtype, np.floating):
        return True
    return all(bool(np.isfinite(part).all()) for part in _chunks(array))


def _check_values(
    name: str, array: np.ndarray, check: Check, arrays: Mapping[str, np.ndarray]
) -> str | None:
    """What is wrong with an array's values under `check`, or None."""
    if not np.issubdtype(array.dtype, np.integer):
        return "not whole numbers"
    if isinstance(check, Offsets):
        target = arrays.get(check.target)
        if target is None or array.ndim != 1 or len(array) == 0:
            return "offsets of nothing"
        if int(array[0]) != 0 or int(array[-1]) != len(target):
            return "offsets that do not cover their data"
        if len(array) > 1 and bool(np.any(np.diff(array) < 0)):
            return "decreasing offsets"
        return None
    for part in _chunks(array):
        if part.size and (int(part.min()) < check.low or int(part.max()) >= check.high):
            return f"values outside {check.low}..{check.high - 1}"
    return None


def _map(folder: Path, name: str, spec: dict[str, Any]) -> np.ndarray:
    """A read-only memory map of `<name>.npy` after its header matches the manifest.

    numpy's own header reader parses the header (a literal, never evaluated as code); the file
    is opened once, checked, and mapped through that same handle.
    """
    path = folder / spec["file"]
    with _open_regular(path) as handle:
        try:
            version = npy_format.read_magic(handle)
            if version == (1, 0):
                header = npy_format.read_array_header_1_0(handle, max_header_size=MAX_NPY_HEADER)
            elif version == (2, 0):
                header = npy_format.read_array_header_2_0(handle, max_header_size=MAX_NPY_HEADER)
            else:
                raise ValueError(f"unknown .npy version {version}")
        except (ValueError, OSError, SyntaxError) as exc:
            raise BundleError(f"{path} is not a plain array file ({exc}): {HINT}") from None
        shape, fortran, dtype = header
        offset = handle.tell()
        size = os.fstat(handle.fileno()).st_size
        if dtype.hasobject:
            raise BundleError(f"{path} holds Python objects (a pickle); refused: {HINT}")
        if fortran or dtype.str != spec["dtype"] or list(shape) != spec["shape"]:
            raise BundleError(f"array {name} in {folder} has the wrong dtype or shape: {HINT}")
        count = int(np.prod(shape, dtype=np.int64))
        if offset + count * dtype.itemsize != size:
            raise BundleError(f"{path} is torn (its size does not match its shape): {HINT}")
        if count == 0:
            return np.zeros(shape, dtype=dtype)
        mapped = np.memmap(handle, dtype=dtype, mode="r", offset=offset, shape=tuple(shape))
    return mapped.view(np.ndarray)


def _document(path: Path, name: str) -> Any:
    raw = _read_bounded(path, MAX_DOCUMENT_BYTES, "document")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # nested too deep: not ours
        raise BundleError(f"{path} cannot be read ({exc}): {HINT}") from None
