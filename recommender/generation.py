"""The data generation: a number every `forget` raises, so that work begun before can tell.

A train reads the store, fits for seconds or minutes, then records its model. If a forget ran
meanwhile, that model learned from listens the listener took back and must never become the
live model. So `train` reads the generation before it reads any data (`data_generation`) and
checks it again under the write lock, in the transaction that records the model
(`check_generation`); `forget` raises it in the transaction that deletes (`bump_generation`).
Reading it first errs on the safe side: a forget that lands between the two reads only makes
the train start again.

The same table (`store_state`, core migration 007) remembers that a forget still has work to
do (bundle folders, the checkpoint, VACUUM), so running it again finishes the job even when
the listener is already gone from the store.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from recommender.errors import ForgottenWhileTraining
from recommender.store import Store

GENERATION = "data_generation"
FORGET_UNFINISHED = "forget_unfinished"


def _read(store: Store, name: str) -> int:
    try:
        row = store.conn.execute("SELECT value FROM store_state WHERE name = ?", (name,)).fetchone()
    except sqlite3.OperationalError:  # a store opened read-only before migration 007
        return 0
    return 0 if row is None else int(row[0])


def _write(store: Store, name: str, value: int) -> None:
    store.conn.execute(
        "INSERT INTO store_state (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (name, value),
    )


def data_generation(store: Store) -> int:
    """How many forgets this store has seen (0 for a store that never forgot anything)."""
    return _read(store, GENERATION)


def bump_generation(store: Store) -> int:
    """Raise the generation by one (call inside the transaction that forgets) and return it."""
    value = data_generation(store) + 1
    _write(store, GENERATION, value)
    return value


def check_generation(store: Store, seen: int, *, discard: Path | None = None) -> None:
    """ForgottenWhileTraining when a forget ran since the generation `seen` was read; the
    unrecorded bundle folder `discard` (if given) is removed first. Call it inside the write
    transaction that records the model, so no forget can land between check and record."""
    if data_generation(store) == seen:
        return
    if discard is not None:
        shutil.rmtree(discard, ignore_errors=True)
    raise ForgottenWhileTraining(
        "listens were forgotten while this model was training, so it was not kept: "
        "run `tastemaker train` again"
    )


def forget_unfinished(store: Store) -> bool:
    """Whether a forget stopped before its files were cleaned and the store compacted."""
    return bool(_read(store, FORGET_UNFINISHED))


def set_forget_unfinished(store: Store, unfinished: bool) -> None:
    """Note (inside a transaction) that a forget has work left, or that it finished it."""
    _write(store, FORGET_UNFINISHED, int(unfinished))
