"""Candidate stages: one module per kind, every stage with the same call.

`stage.propose(request, profile, catalogue) -> StageResult(candidates, effects, summary)`.
`STAGES` registers the built-in ones; a new kind is a new module plus one line here (see the
README's "Developer guide: adding a candidate kind").
"""

from playlists.stages.base import Effects, Stage, StageResult, Tally
from playlists.stages.discovery import DiscoveryStage
from playlists.stages.familiar import FamiliarStage
from playlists.stages.popular import PopularStage, PopularUnexpectedStage
from playlists.stages.registry import StageRegistry
from playlists.stages.unexpected import UnexpectedStage

STAGES = StageRegistry(
    [
        FamiliarStage(),
        DiscoveryStage(),
        UnexpectedStage(),
        PopularStage(),
        PopularUnexpectedStage(),
    ]
)

__all__ = ["STAGES", "Effects", "Stage", "StageRegistry", "StageResult", "Tally"]
