"""Stages by kind: for each kind, the stage for personalised playlists and the one for
non-personalised playlists (either may be missing). A registry is immutable: `with_stage`
gives a new one, so adding a kind in a test or a plug-in changes nobody else's playlists.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from playlists.errors import PlaylistError, UnknownKind
from playlists.request import MixSpec
from playlists.stages.base import Stage


class StageRegistry:
    """The candidate stages a playlist may use, by (kind, personalised)."""

    def __init__(self, stages: Iterable[Stage] = ()) -> None:
        self._stages: dict[tuple[str, bool], Stage] = {}
        for stage in stages:
            key = (str(stage.kind), bool(stage.personalised))
            if key in self._stages:
                mode = "personalised" if stage.personalised else "non-personalised"
                raise PlaylistError(
                    f"two {mode} stages propose '{key[0]}': register one of them, or give "
                    "the new one its own kind"
                )
            self._stages[key] = stage

    def with_stage(self, stage: Stage) -> StageRegistry:
        """This registry plus `stage`."""
        return StageRegistry([*self._stages.values(), stage])

    def __iter__(self) -> Iterator[Stage]:
        return iter(self._stages.values())

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(kind for kind, _ in self._stages)

    def stage(self, kind: str, personalised: bool) -> Stage | None:
        return self._stages.get((kind, personalised))

    def for_mix(self, mix: MixSpec, personalised: bool) -> dict[str, Stage]:
        """The stage for each kind of the mix that has one for this kind of playlist (a
        non-personalised playlist has no familiar picks, for example)."""
        unknown = ", ".join(f"'{k}'" for k in mix.kinds if k not in self.kinds)
        if unknown:
            raise UnknownKind(
                f"no stage proposes {unknown}: register one (see the "
                f"README's developer guide); known kinds: {', '.join(sorted(self.kinds))}"
            )
        found = {kind: self.stage(kind, personalised) for kind in mix.kinds}
        return {kind: stage for kind, stage in found.items() if stage is not None}
