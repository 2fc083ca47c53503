"""Candidate stages: one contract for every registered stage, effects that add up, a registry
that refuses what it cannot run, and a new kind added the way the README's developer guide says.

The demo world with the real artist graph; the model's scores come from the test-only
`FakeModel` (co-listening sums), so these tests check the playlist stages alone.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from playlists import build_playlist
from playlists.assemble import assemble
from playlists.errors import NotEnoughCandidates, PlaylistError, UnknownKind
from playlists.model import DISCOVERY, FAMILIAR, UNEXPECTED, Candidate, Kind, Reason
from playlists.profile import Catalogue, ListenerProfile, build_profile
from playlists.reasons import Evidence, render
from playlists.request import MixSpec, Part, PlaylistRequest, playlist_request, standard_mix
from playlists.stages import STAGES, Effects, Stage, StageRegistry, StageResult, Tally
from playlists.stages.familiar import FamiliarStage
from playlists.storage import load_playlist
from recommender.graph import ArtistGraph
from recommender.store import Store
from recommender.terms import Terms
from tests.fakes import FakeModel

LISTENER = "listener-013"  # street punk
FRIEND = "listener-010"  # trail folk: the music on their playlist is new to LISTENER


@pytest.fixture(scope="module")
def world(
    demo_store_path: Path, demo_graph: ArtistGraph, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, FakeModel]]:
    copy = tmp_path_factory.mktemp("stages") / "demo.db"
    shutil.copy(demo_store_path, copy)
    with Store.open(copy) as store:
        yield store, FakeModel(store, demo_graph)


def _inputs(
    store: Store, model: FakeModel, listener: str, **options: Any
) -> tuple[PlaylistRequest, ListenerProfile, Catalogue]:
    request = playlist_request(store, listener, **options)
    catalogue = Catalogue.of(store, model.graph)
    return request, build_profile(store, request, model, catalogue), catalogue


# One contract for every stage --------------------------------------------------------------


def _run(store: Store, model: FakeModel, stage: Stage, terms: Terms) -> StageResult:
    if stage.personalised:
        request, profile, catalogue = _inputs(store, model, LISTENER, length=20, terms=terms)
    else:
        request, profile, catalogue = _inputs(
            store, model, "someone-new", length=20, terms=terms, new_listener=True
        )
    assert profile.personalised is stage.personalised
    result = stage.propose(request, profile, catalogue)
    # The same inputs give the same answer: nothing is carried from one call to the next.
    assert stage.propose(request, profile, catalogue) == result
    return result


@pytest.mark.parametrize("stage", list(STAGES), ids=lambda s: f"{s.kind}-{s.personalised}")
def test_every_stage_keeps_the_contract(world: tuple[Store, FakeModel], stage: Stage) -> None:
    store, model = world
    result = _run(store, model, stage, Terms())
    assert isinstance(result, StageResult) and result.effects == Effects()
    assert result.candidates, f"{stage.kind} proposed nothing"
    assert len({c.key for c in result.candidates}) == len(result.candidates)
    mine = set(_history(store, LISTENER)) if stage.personalised else set()
    for cand in result.candidates:
        assert cand.kind == stage.kind == cand.reason.kind
        assert cand.reason.evidence["artist_id"] == cand.artist_id
        assert render(cand.kind, cand.reason.evidence) == cand.reason.text
        assert (cand.artist_id in mine) == (stage.kind == FAMILIAR)
        assert (cand.reason.evidence.get("personalised") is False) != stage.personalised
    # An excluded artist is never proposed, and the stage says it left it out.
    first = result.candidates[0].artist
    excluded = _run(store, model, stage, Terms(exclude_artists=(first.upper(),)))
    assert first not in {c.artist for c in excluded.candidates}
    assert excluded.effects.excluded_artists >= 1


def _history(store: Store, listener: str) -> list[int]:
    return [
        int(r[0])
        for r in store.conn.execute(
            "SELECT DISTINCT artist_id FROM listens WHERE listener_id = ?",
            (store.listener_id(listener),),
        )
    ]


def test_effects_of_the_stages_add_up_to_the_playlists(world: tuple[Store, FakeModel]) -> None:
    store, model = world
    terms = Terms(exclude_tags=("ska",), no_repeat_days=30)
    request, profile, catalogue = _inputs(store, model, LISTENER, length=20, terms=terms)
    total = Effects()
    for stage in STAGES.for_mix(request.mix, personalised=True).values():
        total = total + stage.propose(request, profile, catalogue).effects
    playlist = build_playlist(store, LISTENER, length=20, model=model, terms=terms)
    assert playlist.terms["effects"] == total.counts()
    assert total.excluded_tags > 0 and total.excluded_tracks > 0


def test_a_link_avoided_by_two_stages_counts_once() -> None:
    one = Effects(excluded_artists=1, links_avoided=frozenset({(1, 2)}))
    two = Effects(excluded_artists=2, links_avoided=frozenset({(1, 2), (3, 4)}))
    assert (one + two).counts()["excluded_artists"] == 3
    assert (one + two).counts()["curator_links"] == 2


def test_building_writes_nothing_unless_asked(world: tuple[Store, FakeModel]) -> None:
    store, model = world

    def stored() -> int:
        return int(store.conn.execute("SELECT count(*) FROM playlists").fetchone()[0])

    before = stored()
    build_playlist(store, LISTENER, length=10, model=model)
    assert stored() == before
    kept = build_playlist(store, LISTENER, length=10, model=model, save=True)
    assert stored() == before + 1
    assert load_playlist(store, kept.id) == kept


# The registry and the mix ------------------------------------------------------------------


def test_the_registry_refuses_what_it_cannot_run(world: tuple[Store, FakeModel]) -> None:
    store, model = world
    with pytest.raises(PlaylistError, match="two personalised stages propose 'familiar'"):
        STAGES.with_stage(FamiliarStage())
    with pytest.raises(UnknownKind, match="no stage proposes 'friend-shared'"):
        build_playlist(
            store, LISTENER, model=model, extra_parts=(Part("friend-shared", exactly=0.1),)
        )
    assert {s.kind for s in STAGES} == set(Kind)


def test_a_mix_is_checked_when_it_is_made() -> None:
    with pytest.raises(PlaylistError, match="more than the 10"):
        standard_mix(10, 0.8, extra=(Part("friend-shared", exactly=0.3),))
    with pytest.raises(PlaylistError, match="spaced in every part"):
        MixSpec(10, (Part(UNEXPECTED, exactly=0.2, spaced=True), Part(UNEXPECTED)))
    with pytest.raises(PlaylistError, match="between 0 and 1"):
        Part(FAMILIAR, share=1.5)
    with pytest.raises(PlaylistError, match="length must be at least 1"):
        standard_mix(0, 0.2)
    mix = standard_mix(30, 0.2)
    assert mix.kinds == (UNEXPECTED, FAMILIAR, DISCOVERY)
    assert (mix.most(UNEXPECTED), mix.most(FAMILIAR), mix.most(DISCOVERY)) == (6, 30, 30)
    assert mix.share_count(mix.parts[1]) == 14  # 60% of the 24 that are not unexpected


# A new kind: "from a playlist a friend shared" ---------------------------------------------

FRIEND_SHARED = "friend-shared"


@dataclass(frozen=True)
class FriendSharedEvidence(Evidence):
    """A track from a playlist a friend shared, by an artist the listener has not played."""

    kind: ClassVar[str] = FRIEND_SHARED

    artist: str
    artist_id: int
    friend: str
    playlist_id: str
    position: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "artist": self.artist,
            "artist_id": self.artist_id,
            "friend": self.friend,
            "playlist_id": self.playlist_id,
            "position": self.position,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FriendSharedEvidence:
        return cls(
            str(data["artist"]),
            int(data["artist_id"]),
            str(data["friend"]),
            str(data["playlist_id"]),
            int(data["position"]),
        )

    def text(self) -> str:
        return (
            f"{self.friend} shared this in playlist {self.playlist_id} (track {self.position}); "
            f"you have not played {self.artist} yet"
        )


@dataclass(frozen=True)
class FriendSharedStage:
    """The tracks of one stored playlist a friend shared, by artists new to the listener."""

    playlist_id: str
    kind: str = FRIEND_SHARED
    personalised: bool = True

    def propose(
        self, request: PlaylistRequest, profile: ListenerProfile, catalogue: Catalogue
    ) -> StageResult:
        shared = load_playlist(catalogue.store, self.playlist_id)
        tally = Tally(profile)
        out = []
        for track in shared.tracks:
            if track.artist_id in profile.history or not tally.allowed(track.artist_id):
                continue
            if tally.rejected(track.artist_id, track.track_id):
                continue
            evidence = FriendSharedEvidence(
                track.artist, track.artist_id, shared.listener, shared.id, track.position
            )
            out.append(
                Candidate(
                    artist_id=track.artist_id,
                    artist=track.artist,
                    track_id=track.track_id,
                    title=track.title,
                    duration_ms=track.duration_ms,
                    kind=FRIEND_SHARED,
                    reason=evidence.reason(),
                )
            )
        summary = f"{len(out)} of the {len(shared.tracks)} tracks shared are by artists new to you"
        return StageResult(tuple(out), tally.effects(), summary)


@pytest.fixture(scope="module")
def with_friend(world: tuple[Store, FakeModel]) -> tuple[StageRegistry, str]:
    store, model = world
    shared = build_playlist(store, FRIEND, length=30, model=model, save=True)
    return STAGES.with_stage(FriendSharedStage(shared.id)), shared.id


def test_a_new_kind_is_one_stage_and_one_registration(
    world: tuple[Store, FakeModel], with_friend: tuple[StageRegistry, str]
) -> None:
    store, model = world
    stages, shared_id = with_friend
    playlist = build_playlist(
        store,
        LISTENER,
        length=20,
        surprise=0.2,
        model=model,
        extra_parts=(Part(FRIEND_SHARED, exactly=0.1),),
        stages=stages,
    )
    assert len(playlist.tracks) == 20
    assert playlist.count(FRIEND_SHARED) == 2 and playlist.count(UNEXPECTED) == 4
    assert playlist.count(FAMILIAR) > 0 and playlist.count(DISCOVERY) > 0
    shared = {(t.artist_id, t.track_id) for t in load_playlist(store, shared_id).tracks}
    mine = set(_history(store, LISTENER))
    for track in playlist.tracks:
        if track.kind == FRIEND_SHARED:
            assert (track.artist_id, track.track_id) in shared
            assert track.artist_id not in mine
            evidence = FriendSharedEvidence.from_dict(track.reason.evidence)
            assert evidence.text() == track.reason.text and evidence.friend == FRIEND
    for a, b in zip(playlist.tracks, playlist.tracks[1:], strict=False):
        assert a.artist_id != b.artist_id
    assert FRIEND_SHARED not in STAGES.kinds  # the default playlists are untouched


def test_a_new_kind_that_falls_short_says_so(
    world: tuple[Store, FakeModel], with_friend: tuple[StageRegistry, str]
) -> None:
    store, model = world
    stages, _ = with_friend
    # The friend's playlist has 30 tracks: 32 of them cannot be found.
    found = r"found only \d+: \d+ of the 30 tracks shared are by artists new to you"
    with pytest.raises(NotEnoughCandidates, match=rf"asked for 32 friend-shared picks .* {found}"):
        build_playlist(
            store,
            LISTENER,
            length=40,
            surprise=0.2,
            model=model,
            extra_parts=(Part(FRIEND_SHARED, exactly=0.8),),
            stages=stages,
        )


def test_a_new_kind_assembles_from_hand_built_candidates() -> None:
    def cands(kind: str, base: int, n: int) -> list[Candidate]:
        reason = Reason(kind, "because", {})
        return [
            Candidate(base + i, f"artist {base + i}", i, "song", 1, kind, reason) for i in range(n)
        ]

    mix = MixSpec(10, (Part(FRIEND_SHARED, exactly=0.3, spaced=True), Part(FAMILIAR)))
    by_kind = {FRIEND_SHARED: cands(FRIEND_SHARED, 100, 5), FAMILIAR: cands(FAMILIAR, 0, 9)}
    playlist = assemble(by_kind, mix)
    assert len(playlist) == 10
    assert [i for i, c in enumerate(playlist) if c.kind == FRIEND_SHARED] == [1, 5, 8]
    assert [c.artist_id for c in playlist if c.kind == FRIEND_SHARED] == [100, 101, 102]


def test_a_model_rank_is_the_place_in_the_stable_order_of_scores() -> None:
    from playlists.profile import ModelScores

    values = np.array([0.5, 0.9, 0.5, -np.inf, 0.9, 0.1])
    scores = ModelScores.of(np.arange(10, 16), values)
    order = np.argsort(-values, kind="stable")  # ties by column: what `rank` must agree with
    expected = {int(j): place for place, j in enumerate(order, start=1)}
    assert [scores.rank(j) for j in range(6)] == [expected[j] for j in range(6)]
    assert [scores.rank(j) for j in range(6)] == [3, 1, 4, 6, 2, 5]


def test_best_first_is_the_head_of_a_stable_sort() -> None:
    from playlists.stages.base import best_first

    rng = np.random.default_rng(7)
    for values in (rng.integers(0, 5, 200).astype(float), rng.random(50), np.zeros(9)):
        full = np.argsort(-values, kind="stable")
        for k in (1, 3, 10, len(values)):
            assert best_first(values, k).tolist() == full[:k].tolist()


def test_unexpected_tries_artists_no_better_known_than_the_listeners_median_first() -> None:
    from playlists.stages.unexpected import known_no_better

    known = np.array([50, 5, 20, 1])
    # Own artists have 10, 30, 20 listeners: median 20. At most 20 first.
    assert known_no_better(known, [10, 30, 20]).tolist() == [False, True, True, True]
    # An even count: the median is the mean of the middle two (25 here), as statistics' is.
    assert known_no_better(np.array([26, 5, 25, 1]), [20, 30]).tolist() == [
        False,
        True,
        True,
        True,
    ]
    assert known_no_better(known, []).tolist() == [True] * 4


def test_best_first_lazily_is_best_first_in_full() -> None:
    from playlists.stages.base import best_first, best_first_lazily, best_mask

    rng = np.random.default_rng(11)
    # Many ties (a few distinct values) and no ties; positions a sparse ascending subset.
    for values in (rng.integers(0, 4, 3000).astype(float), rng.random(3000)):
        positions = np.flatnonzero(rng.random(3000) < 0.4)
        full = positions[best_first(values[positions], len(positions))]
        assert list(best_first_lazily(values, positions)) == full.tolist()
        for k in (1, 70, 900):
            assert np.flatnonzero(best_mask(values, k)).tolist() == sorted(
                best_first(values, k).tolist()
            )


def test_catalogue_batch_lookups_agree_with_the_one_artist_lookups(
    demo_store_path: Path, demo_graph: ArtistGraph
) -> None:
    with Store.open(demo_store_path) as store:
        catalogue = Catalogue.of(store, demo_graph)
        unknown = int(max(demo_graph.artist_ids)) + 1  # imported after training
        ids = [int(a) for a in demo_graph.artist_ids[::7]][::-1] + [unknown, 0]
        assert catalogue.audience_columns(ids).tolist() == [
            catalogue.audiences.get(a, 0) for a in ids
        ]
        fresh = Catalogue.of(store, demo_graph)  # scene_of memoises: ask a catalogue untouched
        assert catalogue.scenes_of(ids) == [fresh.scene_of(a) for a in ids]
        assert catalogue.scenes_of(ids)[-2:] == [None, None]
        assert any(scene is not None for scene in catalogue.scenes_of(ids))
