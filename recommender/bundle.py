"""Saving and loading a trained model without pickle.

A bundle is a folder: `arrays.npz` (numbers only, loaded with allow_pickle=False),
`mappings.json` (ids and names), the artist graph's own files, and `manifest.json` with the
format version, library versions, the training data's fingerprint and a sha256 per file.
It is written into a temporary folder and renamed into place, so a half-written bundle is never
seen; loading re-checks every checksum, dtype, shape and that every number is finite.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import zipfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from recommender.errors import BundleError

BUNDLE_FORMAT = 1
MANIFEST = "manifest.json"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def library_versions() -> dict[str, str]:
    versions = {}
    for dist in ("tastemaker", "lightfm-next", "numpy", "scipy", "networkx"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "unknown"
    return versions


def write_bundle(
    target: Path,
    arrays: dict[str, np.ndarray],
    mappings: dict[str, Any],
    manifest: dict[str, Any],
    extra_writer: Callable[[Path], object] | None = None,
) -> Path:
    """Write a bundle atomically into `target` (which must not exist yet)."""
    for name, array in arrays.items():
        if array.dtype == object:
            raise BundleError(f"array {name} holds Python objects; bundles hold numbers only")
        if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
            raise BundleError(f"array {name} has non-finite values: the fit diverged, not saved")
    staging = target.parent / f".{target.name}.partial"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        np.savez(staging / "arrays.npz", allow_pickle=False, **arrays)
        (staging / "mappings.json").write_text(json.dumps(mappings, ensure_ascii=False), "utf-8")
        if extra_writer is not None:
            extra_writer(staging)
        files = sorted(p.name for p in staging.iterdir())
        full = {
            "format": BUNDLE_FORMAT,
            **manifest,
            "libraries": library_versions(),
            "arrays": {
                n: {"dtype": str(a.dtype), "shape": list(a.shape)} for n, a in arrays.items()
            },
            "files": {name: _sha256(staging / name) for name in files},
        }
        (staging / MANIFEST).write_text(json.dumps(full, indent=1, ensure_ascii=False), "utf-8")
        for path in staging.iterdir():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def read_bundle(folder: Path) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, Any]]:
    """(manifest, arrays, mappings) of a verified bundle; BundleError for anything suspect."""
    hint = "run `tastemaker train` to make a new one"
    try:
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(f"{folder} has no readable manifest ({exc}): {hint}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{folder} is not a tastemaker model bundle (format 1): {hint}")
    files = manifest.get("files", {})
    for name, digest in files.items():
        path = folder / name
        if Path(name).name != name or not path.is_file():
            raise BundleError(f"{folder} is missing {name}: the bundle is torn; {hint}")
        if _sha256(path) != digest:
            raise BundleError(
                f"{folder / name} does not match its checksum (changed or torn); {hint}"
            )
    for required in ("arrays.npz", "mappings.json"):
        if required not in files:
            raise BundleError(f"{folder} does not list {required}: {hint}")
    try:
        raw = io.BytesIO((folder / "arrays.npz").read_bytes())
        with np.load(raw, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        mappings = json.loads((folder / "mappings.json").read_text("utf-8"))
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise BundleError(f"{folder} cannot be read ({exc}): {hint}") from exc
    for name, spec in manifest.get("arrays", {}).items():
        array = arrays.get(name)
        if array is None or str(array.dtype) != spec["dtype"] or list(array.shape) != spec["shape"]:
            raise BundleError(f"array {name} in {folder} has the wrong dtype or shape: {hint}")
        if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
            raise BundleError(f"array {name} in {folder} has non-finite values: {hint}")
    return manifest, arrays, mappings
