"""Assembly invariants over hand-built candidates (Hypothesis), with the standard mix."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playlists.assemble import Similarity, assemble
from playlists.errors import NotEnoughCandidates, NotEnoughUnexpected
from playlists.model import DISCOVERY, FAMILIAR, UNEXPECTED, Candidate, Reason
from playlists.request import DEFAULT_ARTIST_CAP, rounded_share, standard_mix


def _assemble(
    familiar: list[Candidate],
    discovery: list[Candidate],
    unexpected: list[Candidate],
    *,
    length: int,
    surprise: float,
    artist_cap: int = DEFAULT_ARTIST_CAP,
    similarity: Similarity | None = None,
) -> list[Candidate]:
    by_kind: dict[str, list[Candidate]] = {
        FAMILIAR: familiar,
        DISCOVERY: discovery,
        UNEXPECTED: unexpected,
    }
    mix = standard_mix(length, surprise, artist_cap=artist_cap)
    return assemble(by_kind, mix, similarity=similarity or (lambda _a, _b: 0.0))


def _cands(kind: str, artists: list[int], tracks_per_artist: int, base: int) -> list[Candidate]:
    out = []
    for t in range(tracks_per_artist):
        for a in artists:
            aid = base + a
            out.append(
                Candidate(
                    artist_id=aid,
                    artist=f"artist {aid}",
                    track_id=aid * 100 + t,
                    title=f"song {t}",
                    duration_ms=180_000,
                    kind=kind,
                    reason=Reason(kind, f"because {aid}", {"artist_id": aid}),
                )
            )
    return out


pools = st.tuples(
    st.integers(min_value=1, max_value=40),  # length
    st.floats(min_value=0.0, max_value=1.0),  # surprise
    st.integers(min_value=1, max_value=3),  # artist cap
    st.integers(min_value=0, max_value=3),  # tracks per familiar artist
    st.integers(min_value=0, max_value=25),  # familiar artists
    st.integers(min_value=0, max_value=25),  # discovery artists
    st.integers(min_value=0, max_value=45),  # unexpected artists
)


def _check(playlist: list[Candidate], length: int, surprise: float, cap: int) -> None:
    assert len(playlist) == length
    assert sum(c.kind == UNEXPECTED for c in playlist) == rounded_share(length, surprise)
    assert len({c.key for c in playlist}) == length
    per_artist: dict[int, int] = {}
    for c in playlist:
        per_artist[c.artist_id] = per_artist.get(c.artist_id, 0) + 1
    assert max(per_artist.values()) <= cap
    for a, b in zip(playlist, playlist[1:], strict=False):
        assert a.artist_id != b.artist_id
    for c in playlist:
        assert c.reason.text and c.reason.kind == c.kind


@settings(max_examples=300, deadline=None)
@given(pools)
def test_assembly_invariants(pool: tuple[int, float, int, int, int, int, int]) -> None:
    length, surprise, cap, per_fam, n_fam, n_disc, n_unexp = pool
    familiar = _cands(FAMILIAR, list(range(n_fam)), per_fam, 0)
    discovery = _cands(DISCOVERY, list(range(n_disc)), 1, 1000)
    unexpected = _cands(UNEXPECTED, list(range(n_unexp)), 1, 2000)
    wanted = rounded_share(length, surprise)
    try:
        playlist = _assemble(
            familiar, discovery, unexpected, length=length, surprise=surprise, artist_cap=cap
        )
    except NotEnoughUnexpected as exc:
        assert n_unexp < wanted
        assert f"found only {n_unexp}" in str(exc)
        return
    except NotEnoughCandidates:
        # Only when familiar + discovery cannot fill the rest under the (effective) cap.
        effective_cap = min(cap, (length + 1) // 2)
        assert n_fam * min(per_fam, effective_cap) + n_disc < length - wanted
        return
    _check(playlist, length, surprise, cap)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=1, max_value=40),
    st.floats(min_value=0.0, max_value=1.0),
    st.integers(min_value=1, max_value=3),
)
def test_plenty_of_candidates_always_assemble(length: int, surprise: float, cap: int) -> None:
    familiar = _cands(FAMILIAR, list(range(20)), 3, 0)
    discovery = _cands(DISCOVERY, list(range(30)), 2, 1000)
    unexpected = _cands(UNEXPECTED, list(range(45)), 1, 2000)
    playlist = _assemble(
        familiar, discovery, unexpected, length=length, surprise=surprise, artist_cap=cap
    )
    _check(playlist, length, surprise, cap)


def test_unexpected_picks_are_spaced() -> None:
    familiar = _cands(FAMILIAR, list(range(20)), 2, 0)
    unexpected = _cands(UNEXPECTED, list(range(10)), 1, 2000)
    playlist = _assemble(familiar, [], unexpected, length=30, surprise=0.2)
    positions = [i for i, c in enumerate(playlist) if c.kind == UNEXPECTED]
    assert positions == [2, 7, 12, 17, 22, 27]


def test_never_another_share() -> None:
    familiar = _cands(FAMILIAR, list(range(20)), 2, 0)
    unexpected = _cands(UNEXPECTED, list(range(3)), 1, 2000)
    with pytest.raises(NotEnoughUnexpected, match="asked for 6 unexpected picks"):
        _assemble(familiar, [], unexpected, length=30, surprise=0.2)


def test_walk_follows_similarity() -> None:
    familiar = _cands(FAMILIAR, [1, 2, 3, 4], 1, 0)
    # artist 1 is closest to 3, 3 to 2, 2 to 4
    near = {(1, 3): 0.9, (3, 2): 0.8, (2, 4): 0.7}

    def sim(a: int, b: int) -> float:
        return near.get((a, b), 0.0)

    playlist = _assemble(familiar, [], [], length=4, surprise=0.0, similarity=sim)
    assert [c.artist_id for c in playlist] == [1, 3, 2, 4]


def test_deterministic() -> None:
    familiar = _cands(FAMILIAR, list(range(12)), 2, 0)
    discovery = _cands(DISCOVERY, list(range(12)), 1, 1000)
    unexpected = _cands(UNEXPECTED, list(range(12)), 1, 2000)
    runs = [_assemble(familiar, discovery, unexpected, length=25, surprise=0.3) for _ in range(3)]
    assert runs[0] == runs[1] == runs[2]
