"""The fast part of the red team (bench/redteam.py): every case marked `fast`, in process.

The whole suite (child processes, races with real trains, SIGKILLed trains, full disks,
hostile files, tampered bundles) is `python bench/redteam.py`; it prints cases tried and
failures per group. Cases that fail until another engineer's part of issue 12 lands are
expected failures here too (not strict: the summary shows when one starts to pass).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("redteam", ROOT / "bench" / "redteam.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["redteam"] = module
    spec.loader.exec_module(module)
    return module


redteam = _load()
FAST = [c for c in redteam.CASES if c.fast]

pytestmark = pytest.mark.redteam


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("redteam-worlds")
    built = {}
    for name in sorted({c.world for c in FAST}):
        (root / name).mkdir()
        built[name] = redteam.WORLDS[name](root / name)
    return built


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, id=c.id, marks=[pytest.mark.xfail(reason=c.expected_failure)])
        if c.expected_failure
        else pytest.param(c, id=c.id)
        for c in FAST
    ],
)
def test_hostile_case(case: object, worlds: dict[str, Path], tmp_path: Path) -> None:
    scratch = redteam.prepare(case, worlds[case.world], tmp_path / "case", in_process=True)  # type: ignore[attr-defined]
    try:
        redteam.run_case(case, scratch)
    except redteam.Skip as exc:
        pytest.skip(str(exc))
    except redteam.Failure as exc:
        pytest.fail(str(exc))


def test_the_bench_covers_every_group_of_the_issue() -> None:
    groups = {c.group for c in redteam.CASES}
    assert groups == {
        "forget",
        "outputs",
        "names",
        "dates",
        "writers",
        "inputs",
        "stores",
        "bundles",
        "determinism",
    }
    assert {c.owner for c in redteam.CASES} == {redteam.HARDEN, redteam.INGEST, redteam.SCALE}
    assert len(redteam.CASES) >= 140 and len(FAST) >= 60
    ids = {c.id for c in redteam.CASES}
    assert set(redteam.KNOWN_FAILURES) <= ids  # every expected failure names a real case
    assert not any(c.owner == redteam.HARDEN and c.expected_failure for c in redteam.CASES)
