"""Model bundles on disk: every torn, tampered, foreign or hostile bundle is one clear error.

Two kinds of tampering: a change the checksums see (any edit of a file the manifest lists),
and a *consistent* one, where the file, the manifest's checksum, the store's record of the
manifest and the verification stamp are all rewritten to match, as someone who set out to do
it would; then the content checks (ranges, offsets, dtypes, pickles) must still refuse it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from playlists.cli import main
from recommender import bundle as bundle_module
from recommender.bundle import STAMP, read_bundle, write_bundle
from recommender.errors import BundleError, GraphFileError
from recommender.graph import ArtistGraph
from recommender.models import TastemakerConfig
from recommender.store import Store
from recommender.training import TrainedModel, load_model, train
from tests.small_disk import run_on_small_disk, run_with_read_only, small_disk_works
from tests.synthetic import fill_planted

FAST = TastemakerConfig(no_components=8, epochs=5, learning_rate=0.05, ease_share=0.1)


@pytest.fixture
def trained(file_store: Store) -> TrainedModel:
    fill_planted(file_store)
    return train(file_store, FAST)


def _folder(model: TrainedModel) -> Path:
    assert model.path is not None
    return model.path


def _manifest(folder: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((folder / "manifest.json").read_text("utf-8"))


def _rewrite_consistently(store: Store, folder: Path, manifest: dict) -> None:  # type: ignore[type-arg]
    """Make manifest, store record and stamp agree with the files as they are now."""
    for name, entry in manifest["files"].items():
        data = (folder / name).read_bytes()
        entry.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    text = json.dumps(manifest).encode("utf-8")
    (folder / "manifest.json").write_bytes(text)
    (folder / STAMP).unlink(missing_ok=True)
    row = store.conn.execute("SELECT id, params FROM models").fetchone()
    record = {**json.loads(row[1]), "manifest_sha256": hashlib.sha256(text).hexdigest()}
    with store.transaction() as conn:
        conn.execute("UPDATE models SET params = ? WHERE id = ?", (json.dumps(record), row[0]))


def _replace_array(store: Store, folder: Path, name: str, values: np.ndarray) -> None:
    """Swap one array for `values`, consistently (see the module docstring)."""
    np.save(folder / f"{name}.npy", values, allow_pickle=values.dtype.hasobject)
    manifest = _manifest(folder)
    manifest["arrays"][name].update(dtype=values.dtype.str, shape=list(values.shape))
    _rewrite_consistently(store, folder, manifest)


def _array(folder: Path, name: str) -> np.ndarray:
    return np.load(folder / f"{name}.npy", allow_pickle=False)


def _refused_everywhere(store: Store, match: str) -> None:
    """load_model raises BundleError naming the fix; the CLI prints one Error line."""
    with pytest.raises(BundleError, match=match):
        load_model(store)
    assert store.path is not None
    for command in (["similar", "punk band 1"], ["playlist", "--listener", "p00", "--length", "5"]):
        result = CliRunner().invoke(main, ["--db", str(store.path), *command])
        assert result.exit_code == 1, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
        assert "tastemaker train" in lines[0]


# -- changes the checksums catch -------------------------------------------------------------


def test_a_changed_byte_fails_its_checksum(trained: TrainedModel, file_store: Store) -> None:
    target = _folder(trained) / "item_vectors.npy"
    data = bytearray(target.read_bytes())
    data[-3] ^= 0xFF
    target.write_bytes(bytes(data))
    _refused_everywhere(file_store, "checksum")


def test_a_truncated_or_missing_file_is_torn(trained: TrainedModel, file_store: Store) -> None:
    folder = _folder(trained)
    data = (folder / "history_indices.npy").read_bytes()
    (folder / "history_indices.npy").write_bytes(data[: len(data) // 2])
    _refused_everywhere(file_store, "torn")
    (folder / "history_indices.npy").unlink()
    _refused_everywhere(file_store, "missing history_indices.npy")


def test_an_edited_manifest_is_not_the_recorded_one(
    trained: TrainedModel, file_store: Store
) -> None:
    folder = _folder(trained)
    manifest = _manifest(folder)
    manifest["params"]["ease_share"] = 0.5
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    _refused_everywhere(file_store, "not the manifest this model was recorded with")


@pytest.mark.parametrize("target", ["manifest.json", "item_bias.npy", "graph.json"])
def test_devices_symlinks_and_fifos_are_never_read(
    trained: TrainedModel, file_store: Store, target: str
) -> None:
    folder = _folder(trained)
    (folder / target).unlink()
    os.symlink("/dev/zero", folder / target)
    _refused_everywhere(file_store, "symlink")
    (folder / target).unlink()
    os.mkfifo(folder / target)  # opening a FIFO for reading would wait for a writer forever
    _refused_everywhere(file_store, "not a regular file")


def test_a_huge_manifest_is_not_read_whole(trained: TrainedModel, file_store: Store) -> None:
    folder = _folder(trained)
    with (folder / "manifest.json").open("ab") as handle:
        handle.truncate(bundle_module.MAX_MANIFEST_BYTES + 10)
    _refused_everywhere(file_store, "far too large")


def test_foreign_and_old_folders_are_refused(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"format": "something else"}', "utf-8")
    with pytest.raises(BundleError, match="not a tastemaker model bundle"):
        read_bundle(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": 1, "files": {}}', "utf-8")
    with pytest.raises(BundleError, match=r"old \(format 1\).*tastemaker train"):
        read_bundle(tmp_path)
    (tmp_path / "manifest.json").write_bytes(b"\xff\xfe not json")
    with pytest.raises(BundleError, match="no readable manifest"):
        read_bundle(tmp_path)
    (tmp_path / "manifest.json").unlink()
    with pytest.raises(BundleError, match="missing manifest.json"):
        read_bundle(tmp_path)


def test_a_manifest_naming_files_outside_the_bundle_is_refused(
    trained: TrainedModel, file_store: Store
) -> None:
    folder = _folder(trained)
    manifest = _manifest(folder)
    manifest["files"]["../../tastemaker.db"] = {"bytes": 1, "sha256": "0" * 64}
    _rewrite_consistently(file_store, folder, manifest)
    _refused_everywhere(file_store, "cannot have")


# -- consistent tampering: the content checks ------------------------------------------------


def test_a_pickled_array_is_refused_before_anything_is_unpickled(
    trained: TrainedModel, file_store: Store
) -> None:
    _replace_array(file_store, _folder(trained), "item_bias", np.array([object()], dtype=object))
    _refused_everywhere(file_store, "Python objects")


TAMPERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    # An artist column far outside the catalogue: silently corrupts scores if accepted.
    "history_indices": lambda a: np.where(np.arange(len(a)) == 0, 10**6, a).astype(a.dtype),
    # Offsets that run past their data.
    "history_indptr": lambda a: np.where(np.arange(len(a)) == len(a) - 1, a[-1] + 5, a).astype(
        a.dtype
    ),
    "graph_adjacency_edge": lambda a: (a + 10**6).astype(a.dtype),
    "graph_edges_high": lambda a: (a + 10**6).astype(a.dtype),
    "graph_audience": lambda a: (a - 10**6).astype(a.dtype),
    "graph_scene_labels": lambda a: (a + 10**3).astype(a.dtype),
    "listener_order": lambda a: (a * 0 - 1).astype(a.dtype),
    "graph_names_offsets": lambda a: a[::-1].copy(),
    "item_vectors": lambda a: np.full_like(a, np.nan),
}


def _why(name: str) -> str:
    if name == "item_vectors":
        return "non-finite"
    if "offsets" in name or "indptr" in name:
        return "offsets that do not cover their data"
    return "out of range .values outside"


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_out_of_range_indices_and_bad_numbers_are_refused(
    trained: TrainedModel, file_store: Store, name: str
) -> None:
    folder = _folder(trained)
    _replace_array(file_store, folder, name, TAMPERS[name](_array(folder, name)))
    _refused_everywhere(file_store, f"{name}.*{_why(name)}")


def test_a_wrong_dtype_or_shape_is_refused(trained: TrainedModel, file_store: Store) -> None:
    folder = _folder(trained)
    vectors = _array(folder, "user_vectors")
    _replace_array(file_store, folder, "user_vectors", vectors[:-1])
    _refused_everywhere(file_store, "tastemaker train")
    np.save(folder / "user_vectors.npy", vectors.astype(np.float64))
    _rewrite_consistently(file_store, folder, _manifest(folder))
    _refused_everywhere(file_store, "wrong dtype or shape")


def test_a_file_swapped_under_an_old_stamp_is_caught_where_it_is_read(
    trained: TrainedModel, file_store: Store
) -> None:
    """Someone rewrites an index file and forges the stamp to skip verification: the rows a
    query reads are still checked before use."""
    folder = _folder(trained)
    indices = _array(folder, "history_indices")
    indices[:] = 10**6
    path = folder / "history_indices.npy"
    header = path.read_bytes()[: len(path.read_bytes()) - indices.nbytes]
    path.write_bytes(header + indices.tobytes())  # same size, so the manifest's size holds
    stamp = json.loads((folder / STAMP).read_text("utf-8"))
    found = os.stat(path)
    stamp["files"][path.name] = [
        found.st_size,
        found.st_mtime_ns,
        found.st_ctime_ns,
        found.st_ino,
        found.st_dev,
    ]
    (folder / STAMP).write_text(json.dumps(stamp), "utf-8")
    model = load_model(file_store)  # the forged stamp skips the full check...
    with pytest.raises(BundleError, match="tastemaker train"):
        model.scores("p00")  # ...but the row read is checked


# -- verification happens once ---------------------------------------------------------------


def test_a_bundle_is_hashed_once_then_only_when_a_file_changes(
    trained: TrainedModel, file_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []
    real = bundle_module._sha256

    def counting(path: Path) -> str:
        hashed.append(path.name)
        return real(path)

    monkeypatch.setattr(bundle_module, "_sha256", counting)
    folder = _folder(trained)
    load_model(file_store)
    assert hashed == []  # train verified and stamped it
    (folder / STAMP).unlink()
    load_model(file_store)
    assert len(hashed) == len(_manifest(folder)["files"])  # no stamp: everything, once
    hashed.clear()
    load_model(file_store)
    assert hashed == []
    os.utime(folder / "item_bias.npy")  # a touch changes the change time: verify again
    load_model(file_store)
    assert "item_bias.npy" in hashed


def test_a_read_only_bundle_loads_and_is_verified_each_time(
    trained: TrainedModel, file_store: Store
) -> None:
    folder = _folder(trained)
    (folder / STAMP).unlink()
    folder.chmod(0o555)
    try:
        if not os.access(folder, os.W_OK):
            assert load_model(file_store).scores("p00").shape == (len(trained.artist_ids),)
            assert not (folder / STAMP).exists()
            return
    finally:
        folder.chmod(0o755)
    # Root writes through any permission: a read-only mount stops it, as on a read-only disk.
    if not small_disk_works():
        pytest.skip("root, and no private mount namespace for a read-only mount")
    assert file_store.path is not None
    result = run_with_read_only(READ_ONLY_LOAD, folder, str(file_store.path))
    assert result == {"shape": [len(trained.artist_ids)], "stamp": False}


READ_ONLY_LOAD = """
import json, sys
from recommender.store import Store
from recommender.training import load_model
with Store.open(sys.argv[1]) as store:
    model = load_model(store)
    shape = list(model.scores("p00").shape)
    print(json.dumps({"shape": shape, "stamp": (model.path / ".verified").exists()}))
"""


def test_arrays_are_memory_mapped_read_only(trained: TrainedModel, file_store: Store) -> None:
    loaded = load_model(file_store)
    vectors = loaded.item_vectors
    assert vectors is not None and isinstance(vectors.base, np.memmap)
    with pytest.raises(ValueError, match="read-only"):
        vectors[0, 0] = 1.0


def test_writing_refuses_objects_non_finite_values_and_bad_ranges(tmp_path: Path) -> None:
    for arrays, match in (
        ({"a": np.array([object()], dtype=object)}, "Python objects"),
        ({"a": np.array([1.0, np.nan])}, "diverged"),
    ):
        with pytest.raises(BundleError, match=match):
            write_bundle(tmp_path / "b", arrays, {}, {})
    with pytest.raises(BundleError, match="out of its range"):
        write_bundle(tmp_path / "b", {"a": np.array([3])}, {}, {}, {"a": bundle_module.Bound(3)})
    assert not list(tmp_path.iterdir())  # nothing half-written is left


def test_a_graph_saved_alone_round_trips_and_refuses_tampering(
    demo_graph: ArtistGraph, tmp_path: Path
) -> None:
    folder = demo_graph.save(tmp_path / "g")
    loaded = ArtistGraph.load(folder)
    artist = int(demo_graph.artist_ids[5])
    assert loaded.similar(artist) == demo_graph.similar(artist)
    data = bytearray((folder / "graph_edges_weight.npy").read_bytes())
    data[-1] ^= 0x7F
    (folder / "graph_edges_weight.npy").write_bytes(bytes(data))
    with pytest.raises(GraphFileError, match="checksum"):
        ArtistGraph.load(folder)


FULL_DISK_BUNDLE = """
import json, sys
from pathlib import Path
import numpy as np
from recommender.bundle import write_bundle
from recommender.errors import ModelNotSaved
disk = Path(sys.argv[1])
try:
    write_bundle(disk / "m", {"a": np.zeros(200_000)}, {}, {"model_id": "m"})
    print(json.dumps({"error": None}))
except ModelNotSaved as exc:
    print(json.dumps({"error": str(exc), "files": sorted(p.name for p in disk.iterdir())}))
"""


def test_a_bundle_on_a_full_disk_is_one_error_and_leaves_nothing(tmp_path: Path) -> None:
    result = run_on_small_disk(FULL_DISK_BUNDLE, tmp_path / "disk", size_kib=256)
    assert result["error"] and "nothing was saved" in result["error"], result
    assert "run `tastemaker train` again" in result["error"]
    assert result["files"] == []  # the staging folder is gone too
