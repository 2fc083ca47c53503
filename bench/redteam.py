"""The red team of issue 12: its hostile cases against scratch stores, counted per group.

Usage:
    .venv/bin/python bench/redteam.py                   # every case (about 10 minutes, 2 cores)
    .venv/bin/python bench/redteam.py --group forget    # one group (repeat for more)
    .venv/bin/python bench/redteam.py --case names/explain-bell    # one case (repeat for more)
    .venv/bin/python bench/redteam.py --fast            # the in-process subset `make test` runs
    .venv/bin/python bench/redteam.py --kill-trials 56  # as many SIGKILLed trains as the issue
    .venv/bin/python bench/redteam.py --list

Each case gets its own folder with a copy of a scratch store (`store/`, with its `models/`) and
a folder beside it (`outside/`) holding files that must never change. It runs the real
`tastemaker` command, in a child process with a timeout (and an address-space limit where the
case is about memory), or, with `--fast`, in this process through click's runner. Every case
checks what the issue promises:

- exit status 0 or 1, never a traceback, exactly one `Error:` line when it fails, no hang;
- zero bytes of a forgotten listener in any file the store manages (the database, its -wal
  and -shm, every file under `models/`), in each order of the issue;
- nothing outside the store's folder deleted or changed.

The groups follow the issue: `forget`, `outputs`, `names`, `dates` (this branch's part) and
`writers`, `inputs`, `stores` (the ingest engineer's), `bundles`, `determinism` (the scale
engineer's). A case that fails today because its owner's work has not landed is marked
expected-to-fail with the owner; the table counts those apart and says when one starts to
pass, so the mark can go. A full disk is a real one: a small tmpfs in a private mount
namespace (tests/small_disk.py); where none can be made those cases are skipped and counted
so. Exit status 1 when any case fails that is not expected to.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: the tests' fixtures are used to build worlds
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from playlists import privacy  # noqa: E402
from playlists.build import build_playlist  # noqa: E402
from playlists.cli import main  # noqa: E402
from playlists.storage import list_playlists  # noqa: E402
from recommender.ingest import Listen  # noqa: E402
from recommender.models import TastemakerConfig  # noqa: E402
from recommender.store import Store  # noqa: E402
from recommender.training import train  # noqa: E402
from tests.hostile_fixtures import SECRET, hostile_playlist, with_secret  # noqa: E402
from tests.review_fixtures import build_world  # noqa: E402
from tests.small_disk import run_on_small_disk, small_disk_works  # noqa: E402
from tests.terms_fixtures import T0, add  # noqa: E402

OTHER = "p01"  # a listener who stays
FAST_MODEL = TastemakerConfig(no_components=4, epochs=3, learning_rate=0.05, ease_share=0.1)

HARDEN = "harden"  # this branch: forget, outputs, names, dates
INGEST = "the ingest engineer (issue 12 items 6, 7, 8 and the import/store parts of 11)"
SCALE = "the scale engineer (issue 12 items 9 and 12)"


class Failure(Exception):
    """The hostile case won: what the promise was and what happened instead."""


class Skip(Exception):
    """The case cannot run here (for example no private tmpfs); counted as skipped."""


# Running the command ---------------------------------------------------------------------


@dataclass
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False
    seconds: float = 0.0
    traceback: str | None = None

    def describe(self) -> str:
        tail = (self.traceback or self.stderr or self.stdout).strip().splitlines()[-3:]
        return f"`tastemaker {' '.join(self.args)}` -> {self.returncode}: {' | '.join(tail)}"


def _limit_memory(mib: int | None) -> Callable[[], None] | None:
    if mib is None:
        return None

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (mib << 20, mib << 20))

    return limit


@dataclass
class Scratch:
    """One case's world: a copy of the scratch store and a folder that must not change."""

    root: Path
    in_process: bool
    secret: str = SECRET

    @property
    def store_dir(self) -> Path:
        return self.root / "store"

    @property
    def db(self) -> Path:
        return self.store_dir / "t.db"

    @property
    def outside(self) -> Path:
        return self.root / "outside"

    def tm(
        self, *args: str, timeout: float = 120, memory_mib: int | None = None, db: bool = True
    ) -> Run:
        """Run `tastemaker [--db STORE] ARGS` and return what it did (never raises)."""
        full = ("--db", str(self.db), *args) if db else args
        started = time.perf_counter()
        if self.in_process:
            result = CliRunner().invoke(main, list(full), catch_exceptions=True)
            trace = None
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                trace = f"{type(result.exception).__name__}: {result.exception}"
            return Run(args, result.exit_code, result.stdout, result.stderr, traceback=trace)
        try:
            done = subprocess.run(
                [sys.executable, "-m", "playlists", *full],
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=self.root,
                preexec_fn=_limit_memory(memory_mib),
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            return Run(args, -1, _text(exc.stdout), _text(exc.stderr), timed_out=True)
        return Run(
            args, done.returncode, done.stdout, done.stderr, seconds=time.perf_counter() - started
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "playlists", "--db", str(self.db), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.root,
        )

    def store(self) -> Store:
        return Store.open(self.db)


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def clean(run: Run) -> Run:
    """Exit 0, or exit 1 with exactly one `Error:` line; never a traceback or a hang."""
    if run.timed_out:
        raise Failure(f"hung: {run.describe()}")
    if run.traceback or "Traceback (most recent call last)" in run.stderr + run.stdout:
        raise Failure(f"traceback: {run.describe()}")
    if run.returncode not in (0, 1):
        raise Failure(f"exit status {run.returncode}: {run.describe()}")
    if run.returncode == 1:
        errors = [line for line in run.stderr.splitlines() if line.startswith("Error:")]
        if len(errors) != 1:
            raise Failure(f"not one Error: line: {run.describe()}")
    return run


def refused(run: Run, *words: str) -> Run:
    """A clean refusal (exit 1, one Error: line) that says `words`."""
    clean(run)
    if run.returncode != 1:
        raise Failure(f"accepted what it should refuse: {run.describe()}")
    for word in words:
        if word not in run.stderr:
            raise Failure(f"the error does not say {word!r}: {run.describe()}")
    return run


def ok(run: Run) -> Run:
    clean(run)
    if run.returncode != 0:
        raise Failure(f"failed: {run.describe()}")
    return run


def holding(folder: Path, *secrets: str) -> list[str]:
    """The files under `folder` holding any of `secrets` (UTF-8 or UTF-16)."""
    needles = [s.encode() for s in secrets] + [s.encode("utf-16-le") for s in secrets]
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink() and any(n in p.read_bytes() for n in needles)
    )


def forgotten(scratch: Scratch) -> None:
    """Zero bytes of the forgotten listener in any file the store manages."""
    left = holding(scratch.store_dir, scratch.secret)
    if left:
        raise Failure(f"{scratch.secret} is still in {', '.join(left)}")


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


# Cases ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    group: str
    name: str
    run: Callable[[Scratch], None]
    owner: str
    world: str = "small"  # which scratch store: "small" (planted) or "demo" (bench only)
    fast: bool = False  # in the subset `make test` runs (in process, no child, no hang)
    expected_failure: str | None = None  # fails today: why, and whose work fixes it

    @property
    def id(self) -> str:
        return f"{self.group}/{self.name}"


CASES: list[Case] = []


def case(
    group: str,
    name: str,
    *,
    owner: str = HARDEN,
    world: str = "small",
    fast: bool = False,
    expected_failure: str | None = None,
) -> Callable[[Callable[[Scratch], None]], Callable[[Scratch], None]]:
    def register(function: Callable[[Scratch], None]) -> Callable[[Scratch], None]:
        CASES.append(Case(group, name, function, owner, world, fast, expected_failure))
        return function

    return register


def add_case(group: str, name: str, function: Callable[[Scratch], None], **options: Any) -> None:
    case(group, name, **options)(function)


# forget (this branch: issue items 1, 2, 4, 5 and the forget parts of 11) ------------------


@case("forget", "all-leaves-zero-bytes", fast=True)
def _forget_all(s: Scratch) -> None:
    ok(s.tm("forget", "--listener", s.secret, "--all"))
    forgotten(s)


@case("forget", "rerun-after-success-says-no-listener", fast=True)
def _forget_twice(s: Scratch) -> None:
    ok(s.tm("forget", "--listener", s.secret, "--all"))
    refused(s.tm("forget", "--listener", s.secret, "--all"), "no listener named")


def _forget_during_train(delay: float) -> Callable[[Scratch], None]:
    def run(s: Scratch) -> None:
        training = s.popen("train")
        time.sleep(delay)
        ok(s.tm("forget", "--listener", s.secret, "--all"))
        out, err = training.communicate(timeout=300)
        clean(Run(("train",), training.returncode, out, err))
        forgotten(s)
        with s.store() as store:
            live = store.conn.execute("SELECT count(*) FROM models WHERE stale = 0").fetchone()
        if live[0] and "forgotten while this model was training" in err:
            raise Failure("a train that was told its data was forgotten still recorded a model")

    return run


for _delay in (0.3, 0.8, 1.5, 2.5, 4.0):
    add_case("forget", f"during-train-after-{_delay}s", _forget_during_train(_delay), world="demo")


def _killed_train(seed: int) -> Callable[[Scratch], None]:
    def run(s: Scratch) -> None:
        training = s.popen("train")
        time.sleep(random.Random(seed).uniform(0.5, 5.0))
        training.send_signal(signal.SIGKILL)
        training.wait()
        ok(s.tm("forget", "--listener", s.secret, "--all"))
        forgotten(s)
        debris = [p.name for p in (s.store_dir / "models").glob(".*.partial")]
        if debris:
            raise Failure(f"staging folders left: {debris}")

    return run


@case("forget", "reader-holding-a-snapshot", fast=True)
def _forget_reader(s: Scratch) -> None:
    reader = sqlite3.connect(s.db)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM listens").fetchone()
    wait = privacy.CHECKPOINT_WAIT_MS
    if s.in_process:  # in `make test`: give up on the reader after 0.2 s, not 5 s
        privacy.CHECKPOINT_WAIT_MS = 200
    try:
        first = s.tm("forget", "--listener", s.secret, "--all")
    finally:
        reader.close()
        privacy.CHECKPOINT_WAIT_MS = wait
    refused(first, "run the same forget again")
    ok(s.tm("forget", "--listener", s.secret, "--all"))
    forgotten(s)


@case("forget", "debris-of-killed-trains", fast=True)
def _forget_debris(s: Scratch) -> None:
    models = s.store_dir / "models"
    staging = models / ".20990101T000000000000Z-deadbeef.partial"
    staging.mkdir(parents=True)
    (staging / "mappings.json").write_text(json.dumps({"listeners": [s.secret]}))
    unrecorded = models / "20990101T000001000000Z-deadbeef"
    shutil.copytree(next(p for p in models.iterdir() if not p.name.startswith(".")), unrecorded)
    ok(s.tm("forget", "--listener", s.secret, "--all"))
    forgotten(s)


@case("forget", "copied-store-keeps-the-original", fast=True)
def _forget_copy(s: Scratch) -> None:
    copy = s.root / "copy"
    shutil.copytree(s.store_dir, copy)  # `cp -r`: the rows name the original's bundle paths
    before = _tree(s.store_dir)
    ok(s.tm("--db", str(copy / "t.db"), "forget", "--listener", s.secret, "--all", db=False))
    if _tree(s.store_dir) != before:
        raise Failure("forget in a copied store changed the original store's files")
    if holding(copy, s.secret):
        raise Failure(f"{s.secret} is still in the copy: {holding(copy, s.secret)}")


@case("forget", "models-folder-is-a-link-outside", fast=True)
def _forget_linked_models(s: Scratch) -> None:
    models = s.store_dir / "models"
    shutil.move(models, s.outside / "models")
    models.symlink_to(s.outside / "models")
    before = _tree(s.outside)
    refused(s.tm("forget", "--listener", s.secret, "--all"), "delete", "run forget again")
    if _tree(s.outside) != before:
        raise Failure("forget deleted files outside the store's folder")


@case("forget", "name-with-only-new-listener-playlists", fast=True)
def _forget_ghost(s: Scratch) -> None:
    ok(
        s.tm(
            "playlist",
            "--listener",
            "ghost-name",
            "--new-listener",
            "--length",
            "5",
            "--surprise",
            "0",
        )
    )
    ok(s.tm("forget", "--listener", "ghost-name", "--all"))
    if holding(s.store_dir, "ghost-name"):
        raise Failure("the name is still in the store")


@case("forget", "feedback-rows", fast=True)
def _forget_feedback(s: Scratch) -> None:
    with s.store() as store, store.transaction() as conn:
        conn.execute(
            "INSERT INTO feedback (listener_id, kind, artist_name, track_title, at, source,"
            " dedupe) VALUES (?, 'love', ?, 'Only Theirs', ?, 'listenbrainz', 'x')",
            (store.listener_id(s.secret), f"{s.secret}-loved-band", T0),
        )
    ok(s.tm("forget", "--listener", s.secret, "--all"))
    forgotten(s)


@case("forget", "lists-written-files-that-name-them", fast=True)
def _forget_lists_files(s: Scratch) -> None:
    out = s.outside / "mine.json"
    ok(s.tm("export-data", "--listener", s.secret, "-o", str(out)))
    said = ok(s.tm("forget", "--listener", s.secret, "--all")).stdout
    if str(out.resolve()) not in said or not out.exists():
        raise Failure("the export was not listed (or was deleted: it is outside the store)")


FULL_DISK_FORGET = """
import json, shutil, subprocess, sys
from pathlib import Path
disk = Path(sys.argv[1])
shutil.copytree(sys.argv[1] + "-store", disk / "store")
def tm(*args):
    done = subprocess.run([sys.executable, "-m", "playlists", "--db", str(disk / "store" / "t.db"),
                           *args], capture_output=True, text=True)
    return [done.returncode, done.stdout, done.stderr]
free = shutil.disk_usage(disk).free
(disk / "filler").write_bytes(b"\\0" * max(0, free - (disk / "store" / "t.db").stat().st_size // 2))
first = tm("forget", "--listener", "SECRET", "--all")
(disk / "filler").unlink()
second = tm("forget", "--listener", "SECRET", "--all")
left = sorted(str(p) for p in (disk / "store").rglob("*")
              if p.is_file() and b"SECRET" in p.read_bytes())
print(json.dumps({"first": first, "second": second, "left": left}))
"""


@case("forget", "full-disk-then-rerun")
def _forget_full_disk(s: Scratch) -> None:
    if not small_disk_works():
        raise Skip("no private tmpfs here (unshare --mount)")
    shutil.copytree(s.store_dir, f"{s.root / 'disk'}-store")
    size = sum(p.stat().st_size for p in s.store_dir.rglob("*") if p.is_file()) // 1024 * 2 + 512
    got = run_on_small_disk(
        FULL_DISK_FORGET.replace("SECRET", s.secret), s.root / "disk", size_kib=size, timeout=300
    )
    refused(Run(("forget",), *got["first"]), "disk is full", "run the same forget again")
    ok(Run(("forget",), *got["second"]))
    if got["left"]:
        raise Failure(f"{s.secret} is still in {got['left']}")


# outputs (this branch: issue item 3 and the output parts of 11) ---------------------------

OUTPUT_COMMANDS: dict[str, Callable[[Scratch, Path], tuple[str, ...]]] = {
    "export-data": lambda s, p: ("export-data", "--listener", s.secret, "-o", str(p)),
    "playlist": lambda s, p: ("playlist", "--listener", OTHER, "--length", "5", "-o", str(p)),
    "report": lambda s, p: ("report", _a_playlist(s), "--html", str(p)),
}


def _a_playlist(s: Scratch) -> str:
    with s.store() as store:
        stored = sorted(summary.id for summary in list_playlists(store))
    if not stored:
        raise Failure("the scratch store has no playlist")
    return stored[0]


def _device(s: Scratch) -> Path:
    path = s.outside / "full"
    try:  # a copy of /dev/full, in the case's own folder
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except PermissionError as exc:
        raise Skip("making a device node needs root") from exc
    return path


def _fifo(s: Scratch) -> Path:
    os.mkfifo(s.outside / "pipe")
    return s.outside / "pipe"


def _link_to_device(s: Scratch) -> Path:
    (s.outside / "to-device").symlink_to(_device(s))
    return s.outside / "to-device"


def _dangling(s: Scratch) -> Path:
    (s.outside / "dangling").symlink_to(s.outside / "nowhere" / "file")
    return s.outside / "dangling"


def _read_only(s: Scratch) -> Path:
    path = s.outside / "locked.txt"
    path.write_text("keep")
    path.chmod(0o444)
    return path


TARGETS: dict[str, Callable[[Scratch], Path]] = {
    "device-node": _device,
    "fifo": _fifo,
    "folder": lambda s: s.outside,
    "dangling-link": _dangling,
    "link-to-device": _link_to_device,
    "missing-folder": lambda s: s.outside / "no" / "such" / "out",
    "read-only-file": _read_only,
}


def _refused_output(command: str, target: str) -> Callable[[Scratch], None]:
    def run(s: Scratch) -> None:
        path = TARGETS[target](s)
        before = os.lstat(path) if os.path.lexists(path) else None
        result = s.tm(*OUTPUT_COMMANDS[command](s, path), timeout=60)
        if result.returncode == 2 and target == "folder":  # click's own check: a usage error
            result = dataclasses.replace(result, returncode=1)
        refused(result)
        after = os.lstat(path) if os.path.lexists(path) else None
        if (
            before and after and (before.st_mode, before.st_ino) != (after.st_mode, after.st_ino)
        ) or (before is None and after is not None):
            raise Failure(f"{path} was replaced or created")
        partial = [p.name for p in s.outside.rglob("*.partial")]
        if partial:
            raise Failure(f"partial files left: {partial}")

    return run


def _link_to_file(command: str) -> Callable[[Scratch], None]:
    def run(s: Scratch) -> None:
        real = s.outside / "real.out"
        real.write_text("old")
        (s.outside / "link.out").symlink_to(real)
        said = ok(s.tm(*OUTPUT_COMMANDS[command](s, s.outside / "link.out"))).stdout
        if not (s.outside / "link.out").is_symlink() or real.read_text() == "old":
            raise Failure("the link was replaced, or its target not written")
        if "a link" not in said:
            raise Failure(f"it wrote through a link without saying so: {said!r}")

    return run


FULL_DISK_OUTPUT = """
import json, subprocess, sys
from pathlib import Path
disk = Path(sys.argv[1])
target = disk / "out"
target.write_text("old")
filler = disk / "filler"
try:
    filler.write_bytes(b"x" * (10 << 20))
except OSError:
    pass
done = subprocess.run([sys.executable, "-m", "playlists", *ARGS], capture_output=True, text=True)
print(json.dumps({"run": [done.returncode, done.stdout, done.stderr], "old": target.read_text(),
                  "files": sorted(p.name for p in disk.iterdir())}))
"""


def _full_disk_output(command: str) -> Callable[[Scratch], None]:
    def run(s: Scratch) -> None:
        if not small_disk_works():
            raise Skip("no private tmpfs here (unshare --mount)")
        disk = s.root / "disk"
        args = ["--db", str(s.db), *OUTPUT_COMMANDS[command](s, disk / "out")]
        script = FULL_DISK_OUTPUT.replace("ARGS", json.dumps(args))
        got = run_on_small_disk(script, disk, size_kib=64, timeout=120)
        refused(Run(tuple(args), *got["run"]), "nothing was written")
        if got["old"] != "old" or got["files"] != ["filler", "out"]:
            raise Failure(f"the old file changed or a partial one is left: {got}")

    return run


for _command in OUTPUT_COMMANDS:
    for _target in TARGETS:
        add_case(
            "outputs",
            f"{_command}-onto-{_target}",
            _refused_output(_command, _target),
            fast=_target not in ("fifo",),
        )
    add_case("outputs", f"{_command}-through-link-to-file", _link_to_file(_command), fast=True)
    add_case("outputs", f"{_command}-on-a-full-disk", _full_disk_output(_command))


# names (this branch: issue item 10) --------------------------------------------------------

RLO = "\u202e"
HOSTILE_NAMES = {
    "escape-sequence": "Band\x1b]0;pwned\x07\x1b[2J",
    "bell": "Band\x07\x07",
    "carriage-return": "Band\rforgot 0 listen rows",
    "right-to-left-override": f"Band{RLO}",
    "c1-control": "Band\x9b31m",
    "unterminated-isolate": "Band\u2067",
}
ACTIVE = {chr(c) for c in range(0x20) if chr(c) != "\n"} | {chr(c) for c in range(0x7F, 0xA0)}
ACTIVE |= set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _hostile_store(s: Scratch, name: str) -> str:
    with s.store() as store:
        return hostile_playlist(store, name)


def _names_in_terminal(surface: str, label: str) -> Callable[[Scratch], None]:
    name = HOSTILE_NAMES[label]

    def run(s: Scratch) -> None:
        playlist = _hostile_store(s, name)
        args = {
            "explain": ("explain", playlist),
            "explain-json": ("explain", playlist, "--json"),
            "review-queue": ("review", "--queue"),
            "error-line": ("forget", "--listener", f"nobody{name}", "--all"),
        }[surface]
        result = clean(s.tm(*args))
        raw = {f"U+{ord(c):04X}" for c in result.stdout + result.stderr if c in ACTIVE}
        if raw:
            raise Failure(f"raw control characters reached the terminal: {sorted(raw)}")
        if surface == "explain-json":
            shown = json.loads(result.stdout)["tracks"][0]["artist"]
            if shown != name:
                raise Failure("--json changed the name's value")

    return run


def _names_on_page(label: str) -> Callable[[Scratch], None]:
    name = HOSTILE_NAMES[label]

    def run(s: Scratch) -> None:
        playlist = _hostile_store(s, name)
        page = ok(s.tm("report", playlist, "--html", "-")).stdout
        body = page.split("<body>", 1)[-1]
        raw = {f"U+{ord(c):04X}" for c in body if c in ACTIVE and c not in "\t"}
        if raw:
            raise Failure(f"raw controls on the page: {sorted(raw)}")
        if "<bdi>" not in body or "unicode-bidi: isolate" not in page:
            raise Failure("names are not isolated (<bdi>, unicode-bidi: isolate)")

    return run


for _label in HOSTILE_NAMES:
    for _surface in ("explain", "explain-json", "review-queue", "error-line"):
        add_case(
            "names",
            f"{_surface}-{_label}",
            _names_in_terminal(_surface, _label),
            world="review",
            fast=True,
        )
    add_case("names", f"report-page-{_label}", _names_on_page(_label), world="review", fast=True)


# dates and values (this branch: the remaining parts of 11) ---------------------------------


def _forget_dates(
    *args: str, accepted: bool, words: tuple[str, ...] = ()
) -> Callable[[Scratch], None]:
    def run(s: Scratch) -> None:
        result = s.tm("forget", "--listener", s.secret, *args)
        if accepted:
            ok(result)
        else:
            refused(result, *words)

    return run


for _name, _args, _accepted in (
    ("until-9999-12-31", ("--until", "9999-12-31"), True),
    ("since-0001-01-01", ("--since", "0001-01-01"), True),
    ("basic-format-date", ("--since", "20250101", "--until", "20251021"), True),
    ("iso-week-date", ("--until", "2025-W43-2"), True),
    ("far-offset", ("--until", "9999-12-31T23:59:59-14:00"), True),
    ("month-13", ("--until", "2025-13-01"), False),
    ("words", ("--since", "last tuesday"), False),
    ("since-after-until", ("--since", "2025-10-02", "--until", "2025-10-01"), False),
    ("empty", ("--since", ""), False),
):
    add_case("dates", f"forget-{_name}", _forget_dates(*_args, accepted=_accepted), fast=True)


@case("dates", "basic-format-is-a-whole-day", fast=True)
def _whole_day(s: Scratch) -> None:
    with s.store() as store:
        day = store.conn.execute(
            "SELECT date(listened_at, 'unixepoch') FROM listens l JOIN listeners p"
            " ON p.id = l.listener_id WHERE p.name = ? AND listened_at IS NOT NULL LIMIT 1",
            (s.secret,),
        ).fetchone()[0]
    result = ok(s.tm("forget", "--listener", s.secret, "--until", day.replace("-", ""), "--json"))
    if json.loads(result.stdout)["listens"] == 0:
        raise Failure(f"--until {day.replace('-', '')} did not include that day's listens")


for _value in ("inf", "-inf", "nan", "0", "-1", "1e400"):
    add_case(
        "dates",
        f"half-life-{_value}",
        lambda s, v=_value: refused(s.tm("terms", "--listener", s.secret, "--half-life", v)),
        fast=True,
    )


@case("dates", "stored-infinite-half-life-exports-standard-json", fast=True)
def _stored_inf(s: Scratch) -> None:
    ok(s.tm("terms", "--listener", s.secret, "--surprise", "0.3"))
    with s.store() as store, store.transaction() as conn:
        conn.execute("UPDATE terms SET half_life_days = ?", (float("inf"),))
    out = s.outside / "export.json"
    ok(s.tm("export-data", "--listener", s.secret, "-o", str(out)))

    def refuse(constant: str) -> object:
        raise Failure(f"export-data wrote non-standard JSON ({constant})")

    json.loads(out.read_text(encoding="utf-8"), parse_constant=refuse)
    ok(s.tm("import", "tastemaker", str(out), "--listener", "back-again"))


# writers that wait (the ingest engineer: item 6) -------------------------------------------


def _big_listenbrainz(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for n in range(count):
            meta = {"artist_name": f"Artist {n % 700}", "track_name": f"Track {n % 31}"}
            handle.write(
                json.dumps({"listened_at": 1_600_000_000 + 60 * n, "track_metadata": meta}) + "\n"
            )
    return path


def _wait_for_writer(db: Path, process: subprocess.Popen[str], limit: float = 60) -> bool:
    """Wait until `process` holds the store's write lock (True), or ends first (False)."""
    probe = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        deadline = time.monotonic() + limit
        while process.poll() is None and time.monotonic() < deadline:
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
            except sqlite3.OperationalError:
                return True
            time.sleep(0.05)
        return False
    finally:
        probe.close()


def _while_importing(*args: str) -> Callable[[Scratch], None]:
    def run(s: Scratch) -> None:
        source = _big_listenbrainz(s.outside / "big.jsonl", 400_000)
        importing = s.popen("import", "listenbrainz", str(source), "--listener", "bulk")
        if not _wait_for_writer(s.db, importing):
            raise Skip("the import finished before it was seen holding the write lock")
        result = s.tm(*args, timeout=300)
        out, err = importing.communicate(timeout=600)
        clean(Run(("import",), importing.returncode, out, err))
        clean(result)
        if "database is locked" in result.stderr:
            raise Failure(f"a writer gave up on the lock: {result.describe()}")
        if result.returncode != 0:
            raise Failure(f"failed while an import ran: {result.describe()}")

    return run


for _name, _args in (
    ("playlist", ("playlist", "--listener", OTHER, "--length", "5")),
    ("terms", ("terms", "--listener", OTHER, "--surprise", "0.4")),
    ("forget", ("forget", "--listener", SECRET, "--all")),
    ("second-import", ("import", "lastfm", "LASTFM", "--listener", "csv-person")),
    ("train", ("train",)),
):

    def _prepared(s: Scratch, a: tuple[str, ...] = _args) -> None:
        if "LASTFM" in a:
            csv = s.outside / "scrobbles.csv"
            csv.write_text("Some Band,Some Album,Some Track,31 Jan 2021 14:05\n", encoding="utf-8")
            a = tuple(str(csv) if x == "LASTFM" else x for x in a)
        _while_importing(*a)(s)

    add_case("writers", f"{_name}-while-an-import-runs", _prepared, owner=INGEST)


# hostile input files (the ingest engineer: items 7 and 8, folder symlinks of 11) -----------

FORMATS_FOR_FILES = ("listenbrainz", "spotify", "lastfm", "tastemaker")


def _import(
    fmt: str,
    make: Callable[[Scratch], Path],
    *extra: str,
    memory_mib: int = 2048,
    timeout: float = 30,
) -> Callable[[Scratch], None]:
    def run(s: Scratch) -> None:
        path = make(s)
        result = s.tm(
            "import",
            fmt,
            str(path),
            "--listener",
            "intruder",
            *extra,
            timeout=timeout,
            memory_mib=memory_mib,
        )
        clean(result)

    return run


def _write(name: str, text: str) -> Callable[[Scratch], Path]:
    def make(s: Scratch) -> Path:
        path = s.outside / name
        path.write_text(text, encoding="utf-8")
        return path

    return make


LISTEN = {"listened_at": 1_700_000_000, "track_metadata": {"artist_name": "E", "track_name": "A"}}
STREAM = {
    "ts": "2020-01-01T00:00:00Z",
    "ms_played": 60_000,
    "master_metadata_track_name": "Again",
    "master_metadata_album_artist_name": "Echo",
}


def _zip_bomb(member: str, row: dict[str, Any], *, array: bool) -> Callable[[Scratch], Path]:
    """One row, four million times, in ~300 KB of zip: JSON Lines, or one JSON array."""

    def make(s: Scratch) -> Path:
        path = s.outside / "bomb.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            with archive.open(member, "w", force_zip64=True) as handle:
                line = json.dumps(row).encode() + (b",\n" if array else b"\n")
                handle.write(b"[" if array else b"")
                block = line * 10_000
                for _ in range(400):
                    handle.write(block)
                handle.write(json.dumps(row).encode() + b"]" if array else b"")
        return path

    return make


def _export(**fields: Any) -> str:
    """A tastemaker export (`export-data`'s format) holding `fields`."""
    return json.dumps({"format": "tastemaker-export", "version": 1, **fields})


def _lb(listen: dict[str, Any]) -> str:
    return json.dumps(listen) + "\n"


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


INPUTS: list[tuple[str, str, Callable[[Scratch], Path], tuple[str, ...]]] = []
for _fmt in FORMATS_FOR_FILES:
    INPUTS.append((f"{_fmt}-fifo", _fmt, _fifo, ()))
    INPUTS.append((f"{_fmt}-dev-zero", _fmt, lambda s: Path("/dev/zero"), ()))
INPUTS += [
    ("hetrec-fifo-in-folder", "hetrec", lambda s: _hetrec_with(s, fifo=True), ()),
    ("listenbrainz-zip-bomb", "listenbrainz", _zip_bomb("listens.jsonl", LISTEN, array=False), ()),
    (
        "spotify-zip-bomb",
        "spotify",
        _zip_bomb("Streaming_History_Audio_2020.json", STREAM, array=True),
        (),
    ),
    (
        "listenbrainz-lone-surrogate",
        "listenbrainz",
        _write(
            "lb.jsonl",
            _lb(
                {
                    "listened_at": 1_700_000_000,
                    "track_metadata": {"artist_name": "\ud800", "track_name": "x"},
                }
            ),
        ),
        (),
    ),
    (
        "spotify-lone-surrogate",
        "spotify",
        _write(
            "Streaming_History_Audio_2020.json",
            json.dumps(
                [
                    {
                        "ts": "2020-01-01T00:00:00Z",
                        "ms_played": 60000,
                        "master_metadata_track_name": "\udfff",
                        "master_metadata_album_artist_name": "A",
                    }
                ]
            ),
        ),
        (),
    ),
    (
        "tastemaker-lone-surrogate",
        "tastemaker",
        _write(
            "export.json",
            _export(
                listener={"name": "\ud800"},
                listens=[],
                playlists=[],
            ),
        ),
        (),
    ),
    (
        "listenbrainz-time-1e30",
        "listenbrainz",
        _write(
            "lb.jsonl",
            _lb({"listened_at": 1e30, "track_metadata": {"artist_name": "A", "track_name": "x"}}),
        ),
        (),
    ),
    (
        "tastemaker-plays-1e20",
        "tastemaker",
        _write(
            "export.json",
            _export(
                listener={"name": "n"},
                listens=[{"artist": "A", "plays": 1e20, "listened_at": None, "source": "hetrec"}],
                playlists=[],
            ),
        ),
        (),
    ),
    ("tastemaker-deeply-nested", "tastemaker", _write("export.json", _deep(100_000)), ()),
    ("listenbrainz-deeply-nested", "listenbrainz", _write("lb.json", _deep(100_000)), ()),
    (
        "tastemaker-wrong-typed-terms",
        "tastemaker",
        _write(
            "export.json",
            _export(
                listener={"name": "n"},
                terms={"surprise": "high", "exclude_artists": 7},
                listens=[],
                playlists=[],
            ),
        ),
        (),
    ),
    ("hetrec-23-digit-weight", "hetrec", lambda s: _hetrec_with(s, weight="1" * 23), ()),
    ("hetrec-superscript-digit", "hetrec", lambda s: _hetrec_with(s, weight="1\u00b2"), ()),
    ("spotify-folder-symlink-outside", "spotify", lambda s: _spotify_folder_with_link(s), ()),
]
for _encoding in ("base64", "rot13", "zlib", "hex", "uu"):
    INPUTS.append(
        (
            f"lastfm-encoding-{_encoding}",
            "lastfm",
            _write("s.csv", "A,B,C,31 Jan 2021 14:05\n"),
            ("--encoding", _encoding),
        )
    )


def _hetrec_with(s: Scratch, *, weight: str = "10", fifo: bool = False) -> Path:
    folder = s.outside / "hetrec"
    folder.mkdir()
    (folder / "artists.dat").write_text("id\tname\turl\tpictureURL\n1\tA Band\t\t\n")
    (folder / "tags.dat").write_text("tagID\ttagValue\n1\trock\n")
    (folder / "user_taggedartists.dat").write_text(
        "userID\tartistID\ttagID\tday\tmonth\tyear\n2\t1\t1\t1\t1\t2010\n"
    )
    if fifo:
        os.mkfifo(folder / "user_artists.dat")
    else:
        (folder / "user_artists.dat").write_text(f"userID\tartistID\tweight\n2\t1\t{weight}\n")
    return folder


def _spotify_folder_with_link(s: Scratch) -> Path:
    secret = s.root / "private"
    secret.mkdir()
    (secret / "Streaming_History_Audio_2019.json").write_text(
        json.dumps(
            [
                {
                    "ts": "2019-01-01T00:00:00Z",
                    "ms_played": 60000,
                    "master_metadata_track_name": "Private Track",
                    "master_metadata_album_artist_name": "Private Artist",
                }
            ]
        )
    )
    folder = s.outside / "spotify"
    folder.mkdir()
    (folder / "Streaming_History_Audio_2019.json").symlink_to(
        secret / "Streaming_History_Audio_2019.json"
    )
    return folder


def _not_following(fmt: str, make: Callable[[Scratch], Path]) -> Callable[[Scratch], None]:
    def run(s: Scratch) -> None:
        _import(fmt, make)(s)
        if holding(s.store_dir, "Private Artist"):
            raise Failure("the import followed a symlink out of the folder")

    return run


for _name, _fmt, _make, _extra in INPUTS:
    _run = _not_following(_fmt, _make) if "symlink" in _name else _import(_fmt, _make, *_extra)
    add_case("inputs", _name, _run, owner=INGEST)


# stores (the ingest engineer: the store parts of 11) ---------------------------------------


@case("stores", "db-at-a-foreign-sqlite-file", owner=INGEST)
def _foreign(s: Scratch) -> None:
    other = s.outside / "notes.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('mine')")
    before = _tree(s.outside)
    result = s.tm("--db", str(other), "stats", db=False)
    refused(result)
    if _tree(s.outside) != before:
        raise Failure("a foreign SQLite file was changed")


READ_ONLY = """
import json, subprocess, sys
args = ARGS
done = subprocess.run([sys.executable, "-m", "playlists", *args], capture_output=True, text=True)
print(json.dumps({"run": [done.returncode, done.stdout, done.stderr]}))
"""


def _read_only_store(*args: str) -> Callable[[Scratch], None]:
    def run(s: Scratch) -> None:
        if shutil.which("unshare") is None or os.geteuid() != 0:
            raise Skip("a read-only mount needs unshare as root")
        full = ["--db", str(s.db), *[a.replace("PLAYLIST", _a_playlist(s)) for a in args]]
        script = s.root / "ro.py"
        script.write_text(READ_ONLY.replace("ARGS", json.dumps(full)), encoding="utf-8")
        shell = 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && exec "$2" "$3"'
        done = subprocess.run(
            [
                "unshare",
                "--mount",
                "sh",
                "-c",
                shell,
                "sh",
                str(s.store_dir),
                sys.executable,
                str(script),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if not lines:
            raise Skip(f"no read-only mount here: {done.stderr.strip()[:120]}")
        ok(Run(tuple(args), *json.loads(lines[-1])["run"]))

    return run


for _name, _args in (
    ("stats", ("stats",)),
    ("explain", ("explain", "PLAYLIST")),
    ("terms-show", ("terms", "--listener", OTHER, "--show")),
    ("similar", ("similar", "punk band 1")),
    ("scenes", ("scenes",)),
    ("report-to-stdout", ("report", "PLAYLIST", "--html", "-")),
):
    add_case("stores", f"read-only-store-{_name}", _read_only_store(*_args), owner=INGEST)


FULL_DISK_COMMAND = """
import json, shutil, subprocess, sys
from pathlib import Path
disk = Path(sys.argv[1])
shutil.copytree(sys.argv[1] + "-store", disk / "store")
try:
    (disk / "filler").write_bytes(b"x" * (shutil.disk_usage(disk).free - (64 << 10)))
except OSError:
    pass
args = [a.replace("DB", str(disk / "store" / "t.db")) for a in ARGS]
done = subprocess.run([sys.executable, "-m", "playlists", *args], capture_output=True, text=True)
print(json.dumps({"run": [done.returncode, done.stdout, done.stderr]}))
"""


def _full_disk_command(*args: str) -> Callable[[Scratch], None]:
    def run(s: Scratch) -> None:
        if not small_disk_works():
            raise Skip("no private tmpfs here (unshare --mount)")
        source = _big_listenbrainz(s.outside / "some.jsonl", 20_000)
        full = ["--db", "DB", *[str(source) if a == "SOURCE" else a for a in args]]
        shutil.copytree(s.store_dir, f"{s.root / 'disk'}-store")
        size = sum(p.stat().st_size for p in s.store_dir.rglob("*") if p.is_file()) // 1024 + 2048
        got = run_on_small_disk(
            FULL_DISK_COMMAND.replace("ARGS", json.dumps(full)),
            s.root / "disk",
            size_kib=size,
            timeout=300,
        )
        refused(Run(tuple(args), *got["run"]))

    return run


add_case(
    "stores",
    "import-on-a-full-disk",
    _full_disk_command("import", "listenbrainz", "SOURCE", "--listener", "x"),
    owner=INGEST,
)
add_case("stores", "train-on-a-full-disk", _full_disk_command("train"), owner=INGEST)


# bundles (the scale engineer: item 9) ------------------------------------------------------


def _bundle(s: Scratch) -> Path:
    with s.store() as store:
        (model_id,) = store.conn.execute(
            "SELECT id FROM models WHERE stale = 0 ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
    return s.store_dir / "models" / str(model_id)


def _rehash(bundle: Path, db: Path | None = None) -> None:
    """Make the manifest agree with the files again (sizes, checksums, dtypes and shapes from
    the .npy headers, the declared ranges kept), so only deeper checks can catch a change.
    With `db`, the store's record of the manifest is rewritten too: an attacker who can write
    both, whom the bundle's threat model only promises no code run and no read out of bounds."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    for name, spec in manifest.get("arrays", {}).items():
        try:
            with (bundle / spec["file"]).open("rb") as handle:
                version = np.lib.format.read_magic(handle)
                header = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = header(handle)
            manifest["arrays"][name] = {**spec, "dtype": dtype.str, "shape": list(shape)}
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a torn or missing file: its checksum below is all that can agree
    for name in list(manifest.get("files", {})):
        path = bundle / name
        if path.is_file():
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            manifest["files"][name] = {"bytes": len(data), "sha256": digest}
    text = json.dumps(manifest, indent=1).encode("utf-8")
    (bundle / "manifest.json").write_bytes(text)
    if db is not None:
        with sqlite3.connect(db) as conn:
            query = "SELECT params FROM models WHERE id = ?"
            (params,) = conn.execute(query, (bundle.name,)).fetchone()
            record = {**json.loads(params), "manifest_sha256": hashlib.sha256(text).hexdigest()}
            update = "UPDATE models SET params = ? WHERE id = ?"
            conn.execute(update, (json.dumps(record), bundle.name))


def _edit_array(
    name: str, change: Callable[[np.ndarray], np.ndarray], *, forge: bool = True
) -> Callable[[Path, Path], None]:
    """Change one array; with `forge` the manifest and the store's record are forged to match."""

    def tamper(bundle: Path, db: Path) -> None:
        array = change(np.load(bundle / f"{name}.npy", allow_pickle=False).copy())
        np.save(bundle / f"{name}.npy", array, allow_pickle=True)
        if forge:
            _rehash(bundle, db)

    return tamper


def _set(index: int, value: float) -> Callable[[np.ndarray], np.ndarray]:
    def change(array: np.ndarray) -> np.ndarray:
        array.reshape(-1)[index] = value
        return array

    return change


def _pickled(_: np.ndarray) -> np.ndarray:
    return np.array([Path("/etc/passwd")] * 3, dtype=object)  # loading it would unpickle


def _unbounded(name: str) -> Callable[[Path, Path], None]:
    """The range check itself forged away (the spec's bounds dropped), then every index off the
    end (so whichever row a command reads, it meets one)."""

    def tamper(bundle: Path, db: Path) -> None:
        _edit_array(name, lambda a: np.full_like(a, 10**6), forge=False)(bundle, db)
        manifest = json.loads((bundle / "manifest.json").read_text())
        for key in ("low", "high"):
            manifest["arrays"][name].pop(key, None)
        (bundle / "manifest.json").write_text(json.dumps(manifest))
        _rehash(bundle, db)

    return tamper


def _manifest(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path, Path], None]:
    def tamper(bundle: Path, db: Path) -> None:
        manifest = json.loads((bundle / "manifest.json").read_text())
        text = json.dumps(change(manifest)).encode("utf-8")
        (bundle / "manifest.json").write_bytes(text)

    return tamper


def _forged(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path, Path], None]:
    """A manifest edited and the store's record of it forged to match."""

    def tamper(bundle: Path, db: Path) -> None:
        _manifest(change)(bundle, db)
        _rehash(bundle, db)

    return tamper


def _replace_file(name: str, data: bytes, forge: bool = True) -> Callable[[Path, Path], None]:
    def tamper(bundle: Path, db: Path) -> None:
        (bundle / name).write_bytes(data)
        if forge:
            _rehash(bundle, db)

    return tamper


def _link_manifest_to_dev_zero(bundle: Path, db: Path) -> None:
    (bundle / "manifest.json").unlink()
    (bundle / "manifest.json").symlink_to("/dev/zero")


def _truncate(name: str) -> Callable[[Path, Path], None]:
    def tamper(bundle: Path, db: Path) -> None:
        path = bundle / name
        path.write_bytes(path.read_bytes()[:100])

    return tamper


# Format 2 bundles (recommender/bundle.py): memory-mapped .npy files, a manifest with sizes,
# checksums, dtypes, shapes and ranges, and the manifest's own sha256 in the store's record.
BUNDLE_TAMPERS: dict[str, Callable[[Path, Path], None]] = {
    "manifest-links-to-dev-zero": _link_manifest_to_dev_zero,
    "manifest-not-json": _replace_file("manifest.json", b"{not json", forge=False),
    "manifest-a-list": _manifest(lambda m: [m]),
    "manifest-format-1": _manifest(lambda m: {**m, "format": 1}),
    "manifest-files-not-a-dict": _manifest(lambda m: {**m, "files": ["artist_ids.npy"]}),
    "file-path-escapes": _manifest(lambda m: {**m, "files": {**m["files"], "../t.db": {}}}),
    "manifest-edited-unrecorded": _manifest(lambda m: {**m, "num_threads": 99}),
    "checksum-mismatch": _edit_array("item_vectors", _set(0, 0.5), forge=False),
    "array-truncated": _truncate("history_indices.npy"),
    "array-missing": lambda b, db: (b / "graph_audience.npy").unlink(),
    "array-pickled-forged": _edit_array("item_bias", _pickled),
    "history-index-out-of-range-forged": _edit_array("history_indices", _set(0, 10**9)),
    "ease-item-out-of-range-forged": _edit_array("ease_items", _set(0, 10**9)),
    "nan-in-vectors-forged": _edit_array("item_vectors", _set(0, float("nan"))),
    "graph-index-out-of-range-forged": _edit_array("graph_audience", _set(0, 10**9)),
    "graph-edge-unbounded-forged": _unbounded("graph_adjacency_other"),
    "history-unbounded-forged": _unbounded("history_indices"),
    "graph-json-garbage-forged": _replace_file("graph.json", b"[1, 2"),
    "graph-json-deeply-nested-forged": _replace_file("graph.json", _deep(100_000).encode()),
    "params-wrong-type-forged": _forged(lambda m: {**m, "params": {"no_components": "many"}}),
}


# With the range checks forged away, a bundle is refused where a command reads the bad
# indices (the rows it reads are checked), and may serve a command that never reads them.
READ_BY = {
    "graph-edge-unbounded-forged": "similar",
    "history-unbounded-forged": "playlist",
}


def _tampered(name: str) -> Callable[[Scratch], None]:
    def run(s: Scratch) -> None:
        BUNDLE_TAMPERS[name](_bundle(s), s.db)
        for args in (
            ("playlist", "--listener", OTHER, "--length", "5"),
            ("similar", "punk band 1"),
        ):
            done = s.tm(*args, timeout=60, memory_mib=1024)
            if READ_BY.get(name, args[0]) == args[0]:
                refused(done, "tastemaker train")
            else:
                clean(done)

    return run


for _name in BUNDLE_TAMPERS:
    add_case("bundles", _name, _tampered(_name), owner=SCALE)


# determinism (the scale engineer: item 12) -------------------------------------------------


def _bundle_bytes(folder: Path) -> dict[str, str]:
    # The manifest records stage timings and the stamp inodes and times: neither is the model.
    return {n: v for n, v in _tree(folder).items() if n not in ("manifest.json", ".verified")}


@case("determinism", "two-deterministic-trains-same-bundle-bytes", owner=SCALE)
def _same_bytes(s: Scratch) -> None:
    first = json.loads(ok(s.tm("train", "--deterministic", "--json")).stdout)["path"]
    second = json.loads(ok(s.tm("train", "--deterministic", "--json")).stdout)["path"]
    if _bundle_bytes(Path(first)) != _bundle_bytes(Path(second)):
        raise Failure("two deterministic trains on one store wrote different bundles")


@case("determinism", "two-trains-same-playlist", owner=SCALE)
def _same_playlist(s: Scratch) -> None:
    made = []
    for _ in range(2):
        ok(s.tm("train", "--deterministic"))
        out = json.loads(
            ok(
                s.tm(
                    "playlist",
                    "--listener",
                    OTHER,
                    "--length",
                    "5",
                    "--surprise",
                    "0",
                    "--format",
                    "json",
                )
            ).stdout
        )
        made.append([(t["artist"], t["title"], t["kind"]) for t in out["tracks"]])
    if made[0] != made[1]:
        raise Failure("two deterministic trains made different playlists")


# What fails today (run of 2026-12-01, before the other engineers' branches are merged) --------
# A case id here is expected to fail until its owner's work lands; the table says when one
# passes, so its line can go.

# Cases that fail until their owner's fix lands ("id": owner). All of issue 12's have landed;
# a new finding goes here with its owner until it is fixed.
KNOWN_FAILURES: dict[str, str] = {}
CASES[:] = [
    dataclasses.replace(c, expected_failure=KNOWN_FAILURES[c.id]) if c.id in KNOWN_FAILURES else c
    for c in CASES
]


# Scratch worlds --------------------------------------------------------------------------


def build_small(folder: Path) -> Path:
    """The planted world, one listener whose data is theirs alone, a model and a playlist."""
    with Store.open(folder / "t.db") as store:
        with_secret(store)
        train(store, FAST_MODEL)
        build_playlist(store, SECRET, length=5, save=True)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return folder


def build_demo(folder: Path) -> Path:
    """The demo world with its default model: a train takes seconds, long enough to race."""
    from recommender.resources import demo_dir
    from recommender.sources import import_path

    db = folder / "t.db"
    with Store.open(db) as store:
        import_path(store, "demo", demo_dir())
        add(
            store,
            "spotify",
            [Listen("Velvet Riot", SECRET, title="Mine", listened_at=T0 + i) for i in range(30)],
        )
        train(store)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return folder


def build_review(folder: Path) -> Path:
    """The review fixtures' hand-built world (ana's listens, tagged artists), no model."""
    with Store.open(folder / "t.db") as store:
        build_world(store)
    return folder


WORLDS: dict[str, Callable[[Path], Path]] = {
    "small": build_small,
    "demo": build_demo,
    "review": build_review,
}


@contextmanager
def worlds(root: Path, needed: set[str]) -> Iterator[dict[str, Path]]:
    built = {}
    for name in sorted(needed):
        folder = root / f"world-{name}"
        folder.mkdir(parents=True)
        built[name] = WORLDS[name](folder)
    yield built


def prepare(case_: Case, world: Path, folder: Path, *, in_process: bool) -> Scratch:
    """A fresh folder for one case: a copy of its world's store and a watched `outside/`."""
    scratch = Scratch(folder, in_process)
    shutil.copytree(world, scratch.store_dir, symlinks=True)
    conn = sqlite3.connect(scratch.db)  # as if made here: its rows name its own bundles
    try:
        with conn:
            conn.execute(
                "UPDATE models SET path = replace(path, ?, ?)", (str(world), str(scratch.store_dir))
            )
    finally:
        conn.close()
    scratch.outside.mkdir()
    (scratch.outside / "keep.txt").write_text("never deleted\n")
    return scratch


def run_case(case_: Case, scratch: Scratch) -> None:
    """Run one case; raises Failure or Skip. Nothing outside the store's folder may go."""
    watched = scratch.outside / "keep.txt"
    case_.run(scratch)
    if not watched.is_file() or watched.read_text() != "never deleted\n":
        raise Failure("a file outside the store's folder was deleted or changed")


@dataclass
class Outcome:
    case: Case
    status: str  # "passed", "failed", "skipped"
    detail: str = ""
    seconds: float = 0.0


@dataclass
class Tally:
    tried: int = 0
    failed: int = 0
    expected: int = 0
    skipped: int = 0
    now_passing: list[str] = field(default_factory=list)


def run_all(cases: list[Case], *, in_process: bool, keep: Path | None = None) -> list[Outcome]:
    root = Path(tempfile.mkdtemp(prefix="redteam-", dir=keep))
    outcomes = []
    try:
        with worlds(root, {c.world for c in cases}) as built:
            for number, case_ in enumerate(cases):
                scratch = prepare(
                    case_, built[case_.world], root / f"case-{number:03d}", in_process=in_process
                )
                started = time.perf_counter()
                try:
                    run_case(case_, scratch)
                    status, detail = "passed", ""
                except Failure as exc:
                    status, detail = "failed", str(exc)
                except Skip as exc:
                    status, detail = "skipped", str(exc)
                except Exception as exc:  # the bench's own trouble counts as a failure
                    status, detail = "failed", f"{type(exc).__name__}: {exc}"
                outcome = Outcome(case_, status, detail, time.perf_counter() - started)
                outcomes.append(outcome)
                _report_line(outcome)
                if keep is None:
                    shutil.rmtree(scratch.root, ignore_errors=True)
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return outcomes


def _report_line(outcome: Outcome) -> None:
    mark = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}[outcome.status]
    if outcome.status == "failed" and outcome.case.expected_failure:
        mark = "xf  "
    if outcome.status == "passed" and outcome.case.expected_failure:
        mark = "XOK "
    line = f"{mark} {outcome.case.id:<58} {outcome.seconds:6.1f} s"
    if outcome.detail:
        line += f"  {outcome.detail[:160]}"
    print(line, flush=True)


def table(outcomes: list[Outcome]) -> tuple[str, int]:
    """The per-group table and how many cases failed that were not expected to."""
    groups: dict[str, Tally] = {}
    owners: dict[str, str] = {}
    for o in outcomes:
        tally = groups.setdefault(o.case.group, Tally())
        owners[o.case.group] = (
            "this branch" if o.case.owner == HARDEN else o.case.owner.split(" (")[0]
        )
        if o.status == "skipped":
            tally.skipped += 1
            continue
        tally.tried += 1
        if o.status == "failed":
            tally.failed += 1
            tally.expected += bool(o.case.expected_failure)
        elif o.case.expected_failure:
            tally.now_passing.append(o.case.name)
    lines = [
        f"{'group':<12} {'tried':>5} {'failed':>6} {'expected':>8} {'skipped':>7}  owner",
        f"{'-' * 12} {'-' * 5} {'-' * 6} {'-' * 8} {'-' * 7}  {'-' * 24}",
    ]
    unexpected = 0
    for name, t in groups.items():
        lines.append(
            f"{name:<12} {t.tried:>5} {t.failed:>6} {t.expected:>8} {t.skipped:>7}  {owners[name]}"
        )
        unexpected += t.failed - t.expected
    total = Tally(
        sum(t.tried for t in groups.values()),
        sum(t.failed for t in groups.values()),
        sum(t.expected for t in groups.values()),
        sum(t.skipped for t in groups.values()),
    )
    lines.append(
        f"{'all':<12} {total.tried:>5} {total.failed:>6} {total.expected:>8} {total.skipped:>7}"
    )
    passing = [n for t in groups.values() for n in t.now_passing]
    if passing:
        lines.append(
            f"marked expected-to-fail but passing now (drop the mark): {', '.join(passing)}"
        )
    return "\n".join(lines), unexpected


def selected(
    groups: list[str], fast: bool, kill_trials: int, ids: list[str] | None = None
) -> list[Case]:
    cases = list(CASES)
    for trial in range(kill_trials):
        cases.append(
            Case(
                "forget",
                f"after-killed-train-{trial:02d}",
                _killed_train(trial),
                HARDEN,
                world="demo",
            )
        )
    if fast:
        cases = [c for c in cases if c.fast]
    if groups:
        cases = [c for c in cases if c.group in groups]
    if ids:
        cases = [c for c in cases if c.id in ids]
    return cases


def main_(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--group", action="append", default=[], help="Run only this group.")
    parser.add_argument("--case", action="append", default=[], help="Run only this case id.")
    parser.add_argument("--fast", action="store_true", help="Only the fast in-process subset.")
    parser.add_argument("--kill-trials", type=int, default=8, help="SIGKILLed trains to try.")
    parser.add_argument("--list", action="store_true", help="List the cases and stop.")
    parser.add_argument("--keep", type=Path, help="Keep every case's folder under this one.")
    args = parser.parse_args(argv)
    cases = selected(args.group, args.fast, 0 if args.fast else args.kill_trials, args.case)
    if args.list:
        for c in cases:
            flags = " fast" if c.fast else ""
            flags += f" (expected to fail: {c.owner.split(' (')[0]})" if c.expected_failure else ""
            print(f"{c.id}{flags}")
        return 0
    counts = Counter(c.group for c in cases)
    print(f"{len(cases)} cases: " + ", ".join(f"{g} {n}" for g, n in counts.items()), flush=True)
    outcomes = run_all(cases, in_process=args.fast, keep=args.keep)
    text, unexpected = table(outcomes)
    print()
    print(text)
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main_())
