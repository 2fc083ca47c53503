"""Assembly: choose exactly the right mix from ranked candidates, then put it in a good order.

Rules: exactly `unexpected_count(length, surprise)` unexpected picks (never silently another
share); no track twice; at most `artist_cap` entries per artist; no artist twice in a row;
unexpected picks spaced evenly through the list; the rest ordered by a greedy nearest-neighbour
walk so that neighbouring tracks are close (by the `similarity` given, e.g. embedding cosine).
Everything is deterministic: ties keep the candidates' preference order.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

from playlists.errors import InvalidPlaylistRequest, NotEnoughCandidates, NotEnoughUnexpected
from playlists.model import UNEXPECTED, Candidate

Similarity = Callable[[int, int], float]
DEFAULT_ARTIST_CAP = 2
DEFAULT_FAMILIAR_SHARE = 0.6  # of the non-unexpected part: mostly music the listener knows


def unexpected_count(length: int, surprise: float) -> int:
    """round(length x surprise), halves rounded up (Python's round() would round to even)."""
    return int(math.floor(length * surprise + 0.5))


def _no_similarity(_a: int, _b: int) -> float:
    return 0.0


class _Picker:
    """Takes candidates in order while keeping tracks unique and artists under the cap."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.seen: set[tuple[int, int | None]] = set()
        self.per_artist: Counter[int] = Counter()

    def take(self, pool: Sequence[Candidate], n: int, taken: list[Candidate]) -> list[Candidate]:
        got: list[Candidate] = []
        for cand in pool:
            if len(got) >= n:
                break
            if cand.key in self.seen or self.per_artist[cand.artist_id] >= self.cap:
                continue
            self.seen.add(cand.key)
            self.per_artist[cand.artist_id] += 1
            got.append(cand)
        taken.extend(got)
        return got


def select(
    familiar: Sequence[Candidate],
    discovery: Sequence[Candidate],
    unexpected: Sequence[Candidate],
    *,
    length: int,
    surprise: float,
    artist_cap: int = DEFAULT_ARTIST_CAP,
    familiar_share: float = DEFAULT_FAMILIAR_SHARE,
    unexpected_why: str = "",
) -> list[Candidate]:
    """The playlist's entries (unordered): exactly the right number of unexpected picks."""
    if length < 1:
        raise InvalidPlaylistRequest(f"length must be at least 1, got {length}")
    if not 0.0 <= surprise <= 1.0:
        raise InvalidPlaylistRequest(f"surprise must be between 0 and 1, got {surprise}")
    if artist_cap < 1:
        raise InvalidPlaylistRequest(f"the artist cap must be at least 1, got {artist_cap}")
    # Two entries of one artist need another artist between them.
    cap = min(artist_cap, max(1, (length + 1) // 2))
    picker = _Picker(cap)
    chosen: list[Candidate] = []
    wanted = unexpected_count(length, surprise)
    got = picker.take(unexpected, wanted, chosen)
    if len(got) < wanted:
        why = f": {unexpected_why}" if unexpected_why else ""
        raise NotEnoughUnexpected(
            f"asked for {wanted} unexpected picks ({surprise:.0%} of {length}) but found only "
            f"{len(got)}{why}; lower --surprise or --length"
        )
    rest = length - wanted
    n_familiar = int(math.floor(rest * familiar_share + 0.5)) if discovery else rest
    picker.take(familiar, n_familiar, chosen)
    picker.take(discovery, length - len(chosen), chosen)
    picker.take(familiar, length - len(chosen), chosen)  # discovery ran short
    if len(chosen) < length:
        raise NotEnoughCandidates(
            f"only {len(chosen)} tracks are left for a {length}-track playlist after the "
            "artist cap, your exclusions and recently heard tracks; ask for a shorter playlist"
        )
    return chosen


def order(
    entries: Sequence[Candidate],
    *,
    similarity: Similarity = _no_similarity,
    start_artist: int | None = None,
) -> list[Candidate]:
    """Unexpected picks spaced evenly; the rest a nearest-neighbour walk; artists never repeat."""
    n = len(entries)
    unexpected = [c for c in entries if c.kind == UNEXPECTED]
    pool = _blend([c for c in entries if c.kind != UNEXPECTED])
    slots: list[Candidate | None] = [None] * n
    spaced = {int((i + 0.5) * n / len(unexpected)) for i in range(len(unexpected))}
    for slot, cand in zip(sorted(spaced), unexpected, strict=True):
        slots[slot] = cand
    if start_artist is not None:
        # A seed artist opens the walk when the playlist has it.
        pool.sort(key=lambda c: c.artist_id != start_artist)
    for i in range(n):
        if slots[i] is not None:
            continue
        prev = slots[i - 1] if i > 0 else None
        nxt = slots[i + 1] if i + 1 < n else None
        banned = {c.artist_id for c in (prev, nxt) if c is not None}
        allowed = [c for c in pool if c.artist_id not in banned] or pool
        if prev is None:
            best = allowed[0]
        else:
            best = max(allowed, key=lambda c: similarity(prev.artist_id, c.artist_id))
        pool.remove(best)
        slots[i] = best
    placed = [c for c in slots if c is not None]
    return _separate_artists(placed)


def _blend(entries: list[Candidate]) -> list[Candidate]:
    """Spread each kind evenly through the list, keeping preference order within a kind.

    This is the walk's tie-break: without a similarity signal, familiar and discovery picks
    alternate in proportion instead of coming in two blocks.
    """
    kinds: dict[str, list[Candidate]] = {}
    for c in entries:
        kinds.setdefault(c.kind, []).append(c)
    keyed = [
        ((i + 0.5) / len(group), rank, c)
        for rank, group in enumerate(kinds.values())
        for i, c in enumerate(group)
    ]
    return [c for _, _, c in sorted(keyed, key=lambda k: (k[0], k[1]))]


def _separate_artists(seq: list[Candidate]) -> list[Candidate]:
    """Swap entries (within their own class) until no artist plays twice in a row."""

    def clash(i: int) -> bool:
        return 0 < i < len(seq) and seq[i].artist_id == seq[i - 1].artist_id

    for _ in range(len(seq) * 2):
        bad = next((i for i in range(1, len(seq)) if clash(i)), None)
        if bad is None:
            return seq
        same_class = [
            j
            for j in range(len(seq))
            if j != bad and (seq[j].kind == UNEXPECTED) == (seq[bad].kind == UNEXPECTED)
        ]
        for j in same_class:
            seq[bad], seq[j] = seq[j], seq[bad]
            if not any(clash(k) for k in (bad, bad + 1, j, j + 1)):
                break
            seq[bad], seq[j] = seq[j], seq[bad]
        else:
            # No swap within its class helps: swap with any entry that resolves it.
            for j in range(len(seq)):
                seq[bad], seq[j] = seq[j], seq[bad]
                if not any(clash(k) for k in (bad, bad + 1, j, j + 1)):
                    break
                seq[bad], seq[j] = seq[j], seq[bad]
    return seq


def assemble(
    familiar: Sequence[Candidate],
    discovery: Sequence[Candidate],
    unexpected: Sequence[Candidate],
    *,
    length: int,
    surprise: float,
    artist_cap: int = DEFAULT_ARTIST_CAP,
    familiar_share: float = DEFAULT_FAMILIAR_SHARE,
    similarity: Similarity = _no_similarity,
    start_artist: int | None = None,
    unexpected_why: str = "",
) -> list[Candidate]:
    """Select and order: the finished list of entries, first to last."""
    chosen = select(
        familiar,
        discovery,
        unexpected,
        length=length,
        surprise=surprise,
        artist_cap=artist_cap,
        familiar_share=familiar_share,
        unexpected_why=unexpected_why,
    )
    return order(chosen, similarity=similarity, start_artist=start_artist)
