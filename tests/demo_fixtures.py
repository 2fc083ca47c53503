"""Shared builders for tests that need the demo world (imported once per session)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from recommender.resources import demo_dir


@lru_cache(maxsize=1)
def truth() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((demo_dir() / "truth.json").read_text(encoding="utf-8"))
    return data


def scene_of_artist() -> dict[str, str]:
    return {name: slug for slug, scene in truth()["scenes"].items() for name in scene["artists"]}
