"""Assembly: choose the mix from candidates by kind, then put it in a good order.

The mix (`playlists.request.MixSpec`) says which kinds and how many of each; its parts are
taken in order. Rules: an exact part gets exactly its count or the playlist fails (never
silently another share); no track twice; at most `artist_cap` entries per artist (never more
than every other slot); no artist twice in a row; spaced kinds (unexpected) at evenly spaced
slots; the rest ordered by a greedy nearest-neighbour walk so that neighbouring tracks are
close (by the `similarity` given, e.g. embedding cosine). Everything is deterministic: ties
keep the candidates' preference order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence

from playlists.errors import NotEnoughCandidates, NotEnoughUnexpected
from playlists.model import UNEXPECTED, Candidate
from playlists.request import MixSpec

Similarity = Callable[[int, int], float]


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
    candidates: Mapping[str, Sequence[Candidate]],
    mix: MixSpec,
    *,
    found: Mapping[str, str] | None = None,
) -> list[Candidate]:
    """The playlist's entries (unordered), part by part of the mix.

    `found` says, per kind, how its candidates were found; it is quoted when an exact part
    falls short.
    """
    length = mix.length
    # Two entries of one artist need another artist between them.
    picker = _Picker(min(mix.artist_cap, max(1, (length + 1) // 2)))
    chosen: list[Candidate] = []
    for part in mix.parts:
        pool = candidates.get(part.kind, ())
        if part.exactly is not None:
            wanted = mix.exact_count(part)
            got = picker.take(pool, wanted, chosen)
            if len(got) < wanted:
                raise _short(part.kind, part.exactly, wanted, len(got), length, found or {})
        elif part.share is not None:
            picker.take(pool, mix.share_count(part), chosen)
        else:
            picker.take(pool, length - len(chosen), chosen)
    if len(chosen) < length:
        raise NotEnoughCandidates(
            f"only {len(chosen)} tracks are left for a {length}-track playlist after the "
            "artist cap, your exclusions and recently heard tracks; ask for a shorter playlist"
        )
    return chosen


def _short(
    kind: str, share: float, wanted: int, got: int, length: int, found: Mapping[str, str]
) -> NotEnoughCandidates | NotEnoughUnexpected:
    why = f": {found[kind]}" if found.get(kind) else ""
    asked = f"asked for {wanted} {kind} picks ({share:.0%} of {length}) but found only {got}{why}"
    if kind == UNEXPECTED:
        return NotEnoughUnexpected(f"{asked}; lower --surprise or --length")
    return NotEnoughCandidates(f"{asked}; ask for fewer {kind} picks or a shorter playlist")


def order(
    entries: Sequence[Candidate],
    *,
    spaced: Collection[str] = frozenset({UNEXPECTED}),
    similarity: Similarity = _no_similarity,
    start_artist: int | None = None,
) -> list[Candidate]:
    """Spaced kinds evenly through the list; the rest a nearest-neighbour walk; artists never
    repeat."""
    n = len(entries)
    placed_apart = [c for c in entries if c.kind in spaced]
    pool = _blend([c for c in entries if c.kind not in spaced])
    slots: list[Candidate | None] = [None] * n
    even = {int((i + 0.5) * n / len(placed_apart)) for i in range(len(placed_apart))}
    for slot, cand in zip(sorted(even), placed_apart, strict=True):
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
    return _separate_artists(placed, spaced)


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


def _separate_artists(seq: list[Candidate], spaced: Collection[str]) -> list[Candidate]:
    """Swap entries (spaced with spaced, walked with walked, when that is enough) until no
    artist plays twice in a row."""

    def clash(i: int) -> bool:
        return 0 < i < len(seq) and seq[i].artist_id == seq[i - 1].artist_id

    for _ in range(len(seq) * 2):
        bad = next((i for i in range(1, len(seq)) if clash(i)), None)
        if bad is None:
            return seq
        same_class = [
            j
            for j in range(len(seq))
            if j != bad and (seq[j].kind in spaced) == (seq[bad].kind in spaced)
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
    candidates: Mapping[str, Sequence[Candidate]],
    mix: MixSpec,
    *,
    similarity: Similarity = _no_similarity,
    start_artist: int | None = None,
    found: Mapping[str, str] | None = None,
) -> list[Candidate]:
    """Select by the mix and order: the finished list of entries, first to last."""
    chosen = select(candidates, mix, found=found)
    return order(chosen, spaced=mix.spaced, similarity=similarity, start_artist=start_artist)
