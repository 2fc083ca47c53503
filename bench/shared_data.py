"""Where the benchmarks find the real HetRec data: $TASTEMAKER_HETREC, else
shared/data/hetrec2011-lastfm-2k in the nearest folder above the checkout that has it (a fresh
clone with ../shared beside it, or a worktree deeper down)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RELATIVE = Path("shared") / "data" / "hetrec2011-lastfm-2k"


def hetrec_dir() -> Path:
    """The HetRec folder to read (the nearest one found, else ../shared/... for the message)."""
    if os.environ.get("TASTEMAKER_HETREC"):
        return Path(os.environ["TASTEMAKER_HETREC"])
    for parent in ROOT.parents:
        if (parent / RELATIVE).is_dir():
            return parent / RELATIVE
    return ROOT.parent / RELATIVE
