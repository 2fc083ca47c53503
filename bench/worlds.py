"""Large, seeded listening worlds for scale measurements, written where tastemaker's readers look.

    python bench/worlds.py --world 1m --out bench/out/worlds/1m [--seed 42] [--force]
    python bench/worlds.py --list

Nothing here is committed: a world is made on demand, streamed to disk one chunk of listeners
at a time (memory stays bounded at any size) and is byte-for-byte the same for the same world
and seed. Two layouts:

- HetRec (`tastemaker import hetrec DIR`): `artists.dat`, `tags.dat`, `user_artists.dat`,
  `user_taggedartists.dat` as the real hetrec2011-lastfm-2k files look (tab-separated with a
  header, CRLF except artists.dat, tags.dat in latin-1, rows sorted by listener then artist).
  Listeners keep up to 50 artists each, as HetRec and Last.fm-360K do (top artists per user).
- ListenBrainz (the Last.fm-1K shape): one export folder per listener, `user_000001/user.json`
  plus `listens/YYYY/M.jsonl`, imported with one `tastemaker import listenbrainz DIR/user_000001`
  per listener (a bare export names its owner in user.json, so one import is one listener).

The planted structure, recorded in `truth.json` beside the files:
- scenes (communities) of artists, each a Zipf-popular head and an obscure tail of artists
  that one or two listeners know (as in HetRec, where 61% of artists have one listener);
  scenes' own popularity is Zipf too; families of scenes share a broad genre tag ("punk");
- listeners with log-normal activity (how many artists, plays, tag assignments) who listen
  inside their own 1-3 scenes, with a crossover share drawn from all other scenes;
- look-alike scene pairs: two scenes of different families whose strongest tags are shared
  (like street punk and metalcore, both tagged "hardcore") but whose audiences are disjoint:
  no listener has both, crossover never lands in the partner of a listener's own scene, and
  each listener crosses into one side of any pair only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import resource
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import quote_plus

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

CHUNK = 4096  # listeners per chunk: fixed, so a world's bytes never depend on the machine
MAX_ARTISTS = 50  # HetRec and Last.fm-360K keep each listener's top 50 artists
SCENE_SLOTS = 3  # a listener lives in 1 to 3 scenes
CROSSOVER = 0.1  # share of picks drawn from the whole world instead of the listener's scenes
ARTIST_ZIPF = 1.2  # popularity exponent of artists inside a scene's head
HEAD_SHARE = 0.1  # of a scene's artists; the rest is its obscure tail
DEEP_CUTS = 0.1  # share of picks drawn uniformly from a scene's tail (mostly single-listener)
SCENE_ZIPF = 0.7  # popularity exponent of scenes
TRACK_ZIPF = 1.1  # popularity exponent of tracks inside an artist
# Tag-assignment years as in HetRec's user_taggedartists.dat (2005-2011).
TAG_YEARS = np.arange(2005, 2012)
TAG_YEAR_WEIGHTS = np.array([2483, 9814, 20415, 40273, 43366, 54997, 15125], dtype=np.float64)
# Last.fm-1K spans 14 Feb 2005 to 19 Jun 2009.
LISTEN_START = 1_108_339_200
LISTEN_END = 1_245_369_600


@dataclass(frozen=True)
class HetrecWorld:
    """A HetRec-layout world: listener-artist play counts plus per-listener tag assignments."""

    name: str
    listeners: int
    artists: int  # artists with at least one listener, approximately
    rows: int  # listener-artist rows, approximately
    about: str

    @property
    def layout(self) -> str:
        return "hetrec"


@dataclass(frozen=True)
class ListensWorld:
    """A ListenBrainz-layout world: timestamped listens of tracks, one export per listener."""

    name: str
    listeners: int
    listens: int
    catalogue_artists: int
    about: str

    @property
    def layout(self) -> str:
        return "listenbrainz"


World = HetrecWorld | ListensWorld

WORLDS: dict[str, World] = {
    w.name: w
    for w in (
        HetrecWorld("tiny", 60, 600, 2_400, "for tests: a few seconds to make and import"),
        HetrecWorld("hetrec-1x", 1_892, 17_632, 92_834, "HetRec 2011 Last.fm 2k's size"),
        HetrecWorld("1m", 20_000, 100_000, 988_359, "10x HetRec's rows: issue 15's 1 M-row world"),
        # Between the artist growth of the two smaller worlds (Heaps' law would give ~500k)
        # and Last.fm-360K's 160k artists at nearly twice the rows.
        HetrecWorld("100x", 189_200, 300_000, 9_283_400, "100x HetRec's rows (growth table)"),
        HetrecWorld("lastfm360k", 359_000, 160_000, 17_500_000, "Last.fm-360K's shape (~190x)"),
        ListensWorld("lb-tiny", 4, 2_000, 400, "for tests: four ListenBrainz exports"),
        ListensWorld("lastfm1k-small", 25, 475_000, 20_000, "Last.fm-1K's shape, 25 listeners"),
        ListensWorld("lastfm1k", 1_000, 19_000_000, 150_000, "Last.fm-1K's shape: 19 M listens"),
    )
}


# -- names -----------------------------------------------------------------------------------

_CONSONANTS = "bdfgklmnprstvzhj"
_VOWELS = "aeiouyøæ"  # ø and æ survive accent stripping, so name keys stay distinct
SYLLABLES = [c + v for c in _CONSONANTS for v in _VOWELS]  # 128, each exactly two letters
_SPREAD = 2_654_435_761  # odd, so multiplying by it permutes residues modulo a power of two


def _word(number: int, syllables: int) -> str:
    letters = []
    for _ in range(syllables):
        number, digit = divmod(number, len(SYLLABLES))
        letters.append(SYLLABLES[digit])
    return "".join(letters).capitalize()


def made_up_name(index: int, salt: int, words: tuple[int, ...] = (2, 2)) -> str:
    """A pronounceable name, different for every index below 128 ** sum(words) (a bijection)."""
    total = sum(words)
    space = len(SYLLABLES) ** total
    number = (index * _SPREAD + salt) % space
    parts = []
    for syllables in words:
        number, part = divmod(number, len(SYLLABLES) ** syllables)
        parts.append(_word(part, syllables))
    return " ".join(parts)


def artist_name(index: int, seed: int) -> str:
    return made_up_name(index, seed * 7919)


def mbid_for(kind: str, index: int, seed: int) -> str:
    """A stable MusicBrainz-id-shaped identifier (8-4-4-4-12 hex)."""
    digest = hashlib.blake2b(f"{seed}:{kind}:{index}".encode(), digest_size=16).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


# -- scenes ----------------------------------------------------------------------------------

PREFIXES = (
    "street", "dream", "doom", "post", "neo", "acid", "dark", "space", "noise", "math", "surf",
    "lo-fi", "glitch", "chamber", "synth", "garage", "drone", "power", "death", "black", "free",
    "deep", "minimal", "industrial", "psych", "stoner", "cold", "slow", "hyper", "baroque",
    "desert", "tropical", "cosmic", "bedroom", "avant", "chip", "dub", "gothic", "nordic", "riot",
)  # fmt: skip
GENRES = (
    "punk", "pop", "rock", "metal", "wave", "core", "house", "techno", "jazz", "folk", "soul",
    "hop", "gaze", "step", "funk", "blues", "ambient", "disco", "grunge", "country", "trance",
    "electro", "noir", "ska", "swing",
)  # fmt: skip
PAIR_TAGS = (
    "hardcore", "shoegaze", "chillwave", "grindcore", "screamo", "krautrock", "vaporwave",
    "darkwave", "crust", "trip-hop", "breakbeat", "drum and bass", "synthpop", "new wave",
    "jungle", "idm", "hardstyle", "psytrance", "dubstep", "grime", "afrobeat", "cumbia", "fado",
    "zouk", "sludge", "emo", "britpop", "dancehall", "footwork", "gabber",
)  # fmt: skip
MOODS = (
    "raw", "lush", "melancholic", "angular", "hypnotic", "anthemic", "brooding", "playful",
    "sparse", "dense", "warm", "icy", "ritual", "feral", "gentle", "jagged", "hazy", "crisp",
    "euphoric", "somber", "tender", "frantic", "solemn", "rowdy",
)  # fmt: skip
TEXTURES = (
    "vocals", "guitars", "beats", "synths", "drums", "bass", "strings", "horns", "grooves",
    "textures", "choirs", "loops", "riffs", "keys",
)  # fmt: skip
# Tags anybody gives to anything: broad, so never a scene's name. "Seen Live" next to "seen
# live" is HetRec's own quirk (the reader folds them into one tag); the accents test latin-1.
GENERIC_TAGS = (
    "seen live", "Seen Live", "favorites", "favourite", "love", "awesome", "beautiful",
    "albums i own", "chill", "party", "under 2000 listeners", "80s", "90s", "00s",
    "música para viajar", "café",
)  # fmt: skip
TAIL_WORDS = ("my top", "best of", "playlist", "to check", "mix", "road trip", "rainy day")
GENERIC_TAG_SHARE = 0.10  # of tag assignments; the rest are the scene's tags or personal ones
PERSONAL_TAG_SHARE = 0.15  # for a light tagger; prolific taggers invent more of their own


@dataclass(frozen=True)
class Scenes:
    """The planted communities: which catalogue artists each holds and what it is tagged."""

    names: list[str]
    family: list[str]
    tags: list[list[str]]  # strongest first
    tag_ids: IntArray  # (scenes, slots) ids into the tag list, -1 where unused
    tag_cumulative: FloatArray  # (scenes, slots) cumulative weights of tag_ids
    start: IntArray  # first catalogue index of each scene
    size: IntArray
    popularity: FloatArray  # probability that a pick lands in the scene
    partner: IntArray  # look-alike partner scene, or -1

    @property
    def count(self) -> int:
        return len(self.names)

    def scene_of(self, artists: IntArray) -> IntArray:
        found: IntArray = np.searchsorted(self.start, artists, side="right") - 1
        return found


def scene_count(artists: int) -> int:
    return max(6, round(0.4 * math.sqrt(artists)))


def _scene_sizes(rng: np.random.Generator, popularity: FloatArray, catalogue: int) -> IntArray:
    """Bigger scenes are the popular ones, with noise; every scene keeps at least 30 artists."""
    raw = popularity**0.4 * np.exp(0.4 * rng.standard_normal(len(popularity)))
    share = raw / raw.sum()
    floor = min(30, catalogue // len(popularity))
    sizes: IntArray = np.maximum(floor, np.floor(share * catalogue)).astype(np.int64)
    sizes[np.argmax(sizes)] += catalogue - int(sizes.sum())
    return sizes


def _unique_tag(name: str, taken: set[str]) -> str:
    candidate, k = name, 2
    while " ".join(candidate.casefold().split()) in taken:
        candidate, k = f"{name} {k}", k + 1
    taken.add(" ".join(candidate.casefold().split()))
    return candidate


def plan_scenes(
    seed: int, n_scenes: int, catalogue: int, all_tags: list[str]
) -> tuple[Scenes, list[tuple[int, int]]]:
    """Scenes, their tags (appended to `all_tags`) and the look-alike pairs among them."""
    rng = np.random.default_rng([seed, 0, 1])
    order = rng.permutation(n_scenes)
    popularity = np.empty(n_scenes)
    popularity[order] = (np.arange(n_scenes) + 1.0) ** -SCENE_ZIPF
    popularity /= popularity.sum()
    sizes = _scene_sizes(rng, popularity, catalogue)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)

    n_families = max(2, n_scenes // 4)
    family_of = rng.permutation(np.arange(n_scenes) % n_families)
    genre_order = rng.permutation(len(GENRES))
    prefix_order = rng.permutation(len(PREFIXES))
    taken = {" ".join(t.casefold().split()) for t in all_tags}
    family = [GENRES[genre_order[f % len(GENRES)]] for f in family_of]
    names = []
    used_prefix: dict[int, int] = {}
    for f in family_of.tolist():
        k = used_prefix.get(f, 0)
        used_prefix[f] = k + 1
        prefix = PREFIXES[prefix_order[(k + 7 * f) % len(PREFIXES)]]
        names.append(_unique_tag(f"{prefix} {GENRES[genre_order[f % len(GENRES)]]}", taken))
    family_tags = {g: _unique_tag(g, taken) for g in dict.fromkeys(family)}

    # Look-alike pairs: scenes of different families, about one scene in four paired.
    partner = np.full(n_scenes, -1, dtype=np.int64)
    pairs: list[tuple[int, int]] = []
    candidates = [int(s) for s in rng.permutation(n_scenes)]
    wanted = max(1, n_scenes // 8)
    while candidates and len(pairs) < wanted:
        a = candidates.pop(0)
        b = next((c for c in candidates if family_of[c] != family_of[a]), None)
        if b is None:
            break
        candidates.remove(b)
        partner[a], partner[b] = b, a
        pairs.append((min(a, b), max(a, b)))
    pairs.sort()

    moods = [f"{m} {t}" for m in MOODS for t in TEXTURES]
    mood_order = [moods[i] for i in rng.permutation(len(moods))]

    def next_mood() -> str:
        base = mood_order.pop(0) if mood_order else "moody"
        return _unique_tag(base, taken)

    tags: list[list[str]] = []
    weights: list[list[float]] = []
    shared: dict[int, tuple[str, str]] = {}
    for number, (a, b) in enumerate(pairs):
        pair_tag = _unique_tag(PAIR_TAGS[number % len(PAIR_TAGS)], taken)
        shared[a] = shared[b] = (pair_tag, next_mood())
    for s in range(n_scenes):
        own_family = family_tags[family[s]]
        if s in shared:
            pair_tag, pair_mood = shared[s]
            tags.append([pair_tag, names[s], pair_mood, own_family, next_mood()])
            weights.append([0.34, 0.26, 0.18, 0.10, 0.12])
        else:
            tags.append([names[s], next_mood(), own_family, next_mood()])
            weights.append([0.42, 0.28, 0.12, 0.18])
    index: dict[str, int] = {}
    for t in all_tags:
        index.setdefault(t, len(index))
    for scene_tags in tags:
        for t in scene_tags:
            if t not in index:
                index[t] = len(index)
                all_tags.append(t)
    slots = max(len(t) for t in tags)
    tag_ids = np.full((n_scenes, slots), -1, dtype=np.int64)
    cumulative = np.ones((n_scenes, slots))
    for s, (scene_tags, w) in enumerate(zip(tags, weights, strict=True)):
        tag_ids[s, : len(scene_tags)] = [index[t] for t in scene_tags]
        cumulative[s, : len(w)] = np.cumsum(w) / sum(w)
    scenes = Scenes(
        names=names,
        family=family,
        tags=tags,
        tag_ids=tag_ids,
        tag_cumulative=cumulative,
        start=start,
        size=sizes,
        popularity=popularity,
        partner=partner,
    )
    return scenes, pairs


# -- sampling --------------------------------------------------------------------------------


def zipf_rank(u: FloatArray, size: IntArray, exponent: float) -> IntArray:
    """Ranks in [0, size) with P(r) ~ (r + 1) ** -exponent (inverse CDF of the continuous law)."""
    a = 1.0 - exponent
    top = (size + 1.0) ** a
    x = (1.0 + u * (top - 1.0)) ** (1.0 / a)
    ranks: IntArray = np.clip(np.floor(x).astype(np.int64) - 1, 0, size - 1)
    return ranks


def zipf_probabilities(size: int, exponent: float) -> FloatArray:
    """P(rank) of `zipf_rank` for one size (used to size the catalogue)."""
    a = 1.0 - exponent
    edges = (np.arange(1, size + 2, dtype=np.float64) ** a - 1.0) / ((size + 1.0) ** a - 1.0)
    result: FloatArray = np.diff(edges)
    return result


def _calibrated(z: FloatArray, total: float, low: float, high: float, sigma: float) -> IntArray:
    """clip(round(exp(mu + sigma z))) with mu chosen by bisection so the sum is near `total`."""
    lo, hi = -5.0, 15.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.clip(np.rint(np.exp(mid + sigma * z)), low, high).sum() < total:
            lo = mid
        else:
            hi = mid
    counts: IntArray = np.clip(np.rint(np.exp(hi + sigma * z)), low, high).astype(np.int64)
    return counts


@dataclass(frozen=True)
class Picks:
    """One chunk of listeners' distinct artists, in the order they were first drawn."""

    listener: IntArray  # row in the chunk
    artist: IntArray  # catalogue index
    order: IntArray  # 0 for the first artist drawn for that listener, 1 for the next ...
    crossover: BoolArray
    home: IntArray  # (listeners, SCENE_SLOTS) scenes, -1 where unused
    scene_draws: IntArray  # draws it took per scene, duplicates included (heads repeat)


def pick_artists(rng: np.random.Generator, scenes: Scenes, wanted: IntArray) -> Picks:
    """Distinct artists for each listener of a chunk: mostly in their scenes, some crossover."""
    n = len(wanted)
    home = rng.choice(scenes.count, size=(n, SCENE_SLOTS), p=scenes.popularity)
    k = rng.choice(np.arange(1, SCENE_SLOTS + 1), size=n, p=[0.35, 0.4, 0.25])
    valid = np.arange(SCENE_SLOTS)[None, :] < k[:, None]
    for j in range(1, SCENE_SLOTS):
        for i in range(j):
            clash = (home[:, j] == home[:, i]) | (home[:, j] == scenes.partner[home[:, i]])
            valid[:, j] &= ~(clash & valid[:, i])
    weight = rng.gamma(1.0, size=(n, SCENE_SLOTS)) * valid
    weight[:, 0] += 1.0  # the first scene is the listener's main one
    cumulative = np.cumsum(weight, axis=1) / weight.sum(axis=1, keepdims=True)
    home = np.where(valid, home, -1)

    m = 4 * int(wanted.max()) + 8  # enough draws that duplicates rarely leave a listener short
    slot = (rng.random((n, m))[:, :, None] > cumulative[:, None, :]).sum(axis=2)
    scene = np.take_along_axis(home, np.minimum(slot, SCENE_SLOTS - 1), axis=1)
    away = rng.choice(scenes.count, size=(n, m), p=scenes.popularity)
    partners = np.where(home >= 0, scenes.partner[np.maximum(home, 0)], -1)
    forbidden = (away[:, :, None] == partners[:, None, :]).any(axis=2)
    forbidden |= (away[:, :, None] == home[:, None, :]).any(axis=2)
    # Crossing into both scenes of a look-alike pair would join their audiences: each listener
    # may cross into one side of every pair only (the lower-numbered scenes, or the higher).
    side = rng.random(n) < 0.5
    paired = scenes.partner[away] >= 0
    forbidden |= paired & ((away < scenes.partner[away]) != side[:, None])
    crossover = (rng.random((n, m)) < CROSSOVER) & ~forbidden
    scene = np.where(crossover, away, scene)
    size = scenes.size[scene]
    head = head_size(size)
    rank = zipf_rank(rng.random((n, m)), head, ARTIST_ZIPF)
    deep = (rng.random((n, m)) < DEEP_CUTS) & (size > head)
    tail = head + np.floor(rng.random((n, m)) * (size - head)).astype(np.int64)
    artist = scenes.start[scene] + np.where(deep, tail, rank)

    by_value = np.argsort(artist, axis=1, kind="stable")
    ordered = np.take_along_axis(artist, by_value, axis=1)
    first_sorted = np.ones_like(ordered, dtype=bool)
    first_sorted[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    first = np.empty_like(first_sorted)
    np.put_along_axis(first, by_value, first_sorted, axis=1)
    rank = np.cumsum(first, axis=1) - 1
    keep = first & (rank < wanted[:, None])
    rows, cols = np.nonzero(keep)
    last_draw = np.zeros(n, dtype=np.int64)
    np.maximum.at(last_draw, rows, cols + 1)
    used = np.arange(m)[None, :] < last_draw[:, None]
    return Picks(
        listener=rows.astype(np.int64),
        artist=artist[rows, cols],
        order=rank[rows, cols],
        crossover=crossover[rows, cols],
        home=home,
        scene_draws=np.bincount(scene[used], minlength=scenes.count).astype(np.int64),
    )


def head_size(size: IntArray) -> IntArray:
    """Artists in a scene's head (Zipf popular); the rest of the scene is its tail."""
    head = np.clip(np.rint(HEAD_SHARE * size), 1, np.maximum(1, size - 1))
    result: IntArray = head.astype(np.int64)
    return result


def expected_heard(scenes: Scenes, draws: FloatArray) -> float:
    """How many catalogue artists are expected to be reached by `draws[s]` draws per scene."""
    total = 0.0
    heads = head_size(scenes.size)
    for s in range(scenes.count):
        size, head = int(scenes.size[s]), int(heads[s])
        p = np.concatenate(
            [
                (1 - DEEP_CUTS) * zipf_probabilities(head, ARTIST_ZIPF),
                np.full(size - head, DEEP_CUTS / max(1, size - head)),
            ]
        )
        total += float((1.0 - np.exp(-draws[s] * p)).sum())
    return total


def catalogue_for(world: HetrecWorld, seed: int, wanted: IntArray) -> int:
    """The catalogue size at which about `world.artists` artists end up with a listener.

    A sample chunk of listeners measures how many draws land in each scene per row (head
    artists repeat before a listener has `wanted` distinct ones); the expected reach of that
    many draws over the whole world sets the size.
    """
    n_scenes = scene_count(world.artists)
    sample = wanted[:CHUNK]

    def heard(catalogue: int) -> float:
        scenes, _ = plan_scenes(seed, n_scenes, catalogue, list(GENERIC_TAGS))
        picks = pick_artists(np.random.default_rng([seed, 0, 2]), scenes, sample)
        per_row = picks.scene_draws / max(1, len(picks.artist))
        return expected_heard(scenes, per_row * float(wanted.sum()))

    # More catalogue means more tail artists within reach: bisect on the size.
    low, high = max(n_scenes * 30, world.artists // 2), 8 * world.artists
    while high - low > max(10, world.artists // 500):
        middle = (low + high) // 2
        if heard(middle) < world.artists:
            low = middle
        else:
            high = middle
    return high


# -- files -----------------------------------------------------------------------------------


class Output:
    """Files written beside each other; each appears under its real name only when complete."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.parts: list[tuple[Path, Path]] = []

    def open(self, name: str, encoding: str = "utf-8", newline: str = "") -> TextIO:
        final = self.folder / name
        final.parent.mkdir(parents=True, exist_ok=True)
        part = final.with_name(final.name + ".part")
        self.parts.append((part, final))
        return part.open("w", encoding=encoding, newline=newline)

    def commit(self) -> None:
        for part, final in self.parts:
            os.replace(part, final)
        self.parts.clear()


def prepare_folder(folder: Path, force: bool) -> None:
    if folder.exists() and any(folder.iterdir()):
        if not force:
            raise SystemExit(
                f"Error: {folder} is not empty: pass --force to replace it, or choose another --out"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)


def _lines(columns: list[IntArray], newline: str) -> str:
    template = "\t".join(["{}"] * len(columns)) + newline
    rows = zip(*(c.tolist() for c in columns), strict=True)
    return "".join(template.format(*row) for row in rows)


# -- the HetRec layout -----------------------------------------------------------------------


def write_hetrec(world: HetrecWorld, folder: Path, seed: int) -> dict[str, object]:
    base = np.random.default_rng([seed, 0, 0])
    activity = base.standard_normal(world.listeners)
    wanted = _calibrated(activity, world.rows, 1, MAX_ARTISTS, 1.0)
    plays_scale = np.exp(
        np.log(1500.0) + 0.5 * activity + 1.0 * base.standard_normal(world.listeners)
    )
    tagging = base.standard_normal(world.listeners)
    catalogue = catalogue_for(world, seed, wanted)
    external = base.permutation(catalogue).astype(np.int64) + 1  # catalogue index -> artists.dat id
    all_tags = list(GENERIC_TAGS)
    scenes, pairs = plan_scenes(seed, scene_count(world.artists), catalogue, all_tags)
    n_generic, n_named = len(GENERIC_TAGS), len(all_tags)
    tail_size = max(50, round(0.6 * world.artists))
    tail = [
        f"{TAIL_WORDS[i % len(TAIL_WORDS)]} {i // len(TAIL_WORDS) + 1}" for i in range(tail_size)
    ]
    all_tags.extend(tail)

    listeners_of = np.zeros(catalogue, dtype=np.int64)
    scene_listeners = np.zeros(scenes.count, dtype=np.int64)
    rows_written = tags_written = 0
    out = Output(folder)
    with (
        out.open("user_artists.dat") as plays_file,
        out.open("user_taggedartists.dat") as tags_file,
    ):
        plays_file.write("userID\tartistID\tweight\r\n")
        tags_file.write("userID\tartistID\ttagID\tday\tmonth\tyear\r\n")
        for first in range(0, world.listeners, CHUNK):
            last = min(first + CHUNK, world.listeners)
            rng = np.random.default_rng([seed, 1, first // CHUNK])
            picks = pick_artists(rng, scenes, wanted[first:last])
            users = picks.listener + first + 1
            ids = external[picks.artist]
            noise = np.exp(0.3 * rng.standard_normal(len(ids)))
            plays = plays_scale[first + picks.listener] * (picks.order + 1.0) ** -0.5 * noise
            plays = np.maximum(1, np.rint(np.where(picks.crossover, 0.4 * plays, plays)))
            order = np.lexsort((ids, users))
            plays_file.write(
                _lines([users[order], ids[order], plays[order].astype(np.int64)], "\r\n")
            )
            rows_written += len(ids)
            np.add.at(listeners_of, picks.artist, 1)
            home = picks.home[picks.home >= 0]
            np.add.at(scene_listeners, home, 1)
            tag_rows = _tag_rows(
                rng, scenes, picks, external, tagging[first:last], n_generic, n_named, tail_size
            )
            tag_users, tag_artists, tag_ids = tag_rows
            dates = _tag_dates(rng, len(tag_ids))
            tags_file.write(
                _lines([tag_users + first + 1, tag_artists, tag_ids + 1, *dates], "\r\n")
            )
            tags_written += len(tag_ids)
    heard = np.flatnonzero(listeners_of)
    _write_artists(out, heard, external, seed)
    with out.open("tags.dat", encoding="latin-1") as tags_list:
        tags_list.write("tagID\ttagValue\r\n")
        tags_list.write("".join(f"{i + 1}\t{t}\r\n" for i, t in enumerate(all_tags)))
    out.commit()

    scene_of = scenes.scene_of(heard)
    by_listeners = heard[np.argsort(-listeners_of[heard], kind="stable")]
    scene_rank = np.argsort(-scenes.popularity, kind="stable")
    top_of_scene = [artist_name(int(scenes.start[s]), seed) for s in scene_rank[:3]]
    step = max(1, world.listeners // 20)
    return {
        "listeners": world.listeners,
        "artists": len(heard),
        "catalogue": catalogue,
        "rows": rows_written,
        "tag_rows": tags_written,
        "tags": len(all_tags),
        "artists_with_2_listeners": int((listeners_of >= 2).sum()),
        "most_listened_artist": {
            "name": artist_name(int(by_listeners[0]), seed),
            "listeners": int(listeners_of[by_listeners[0]]),
        },
        "probe": {
            "listeners": [str(i) for i in range(1, world.listeners + 1, step)][:20],
            "artists": [artist_name(int(by_listeners[0]), seed), *top_of_scene],
        },
        "scenes": [
            {
                "id": s,
                "name": scenes.names[s],
                "family": scenes.family[s],
                "tags": scenes.tags[s],
                "partner": None if scenes.partner[s] < 0 else int(scenes.partner[s]),
                "listeners": int(scene_listeners[s]),
                "artist_ids": sorted(int(a) for a in external[heard[scene_of == s]]),
            }
            for s in range(scenes.count)
        ],
        "lookalike_pairs": [
            {"scenes": [a, b], "shared_tags": sorted(set(scenes.tags[a]) & set(scenes.tags[b]))}
            for a, b in pairs
        ],
    }


def _tag_rows(
    rng: np.random.Generator,
    scenes: Scenes,
    picks: Picks,
    external: IntArray,
    tagging: FloatArray,
    n_generic: int,
    n_named: int,
    tail_size: int,
) -> tuple[IntArray, IntArray, IntArray]:
    """(listener row, artists.dat id, tag index) triples, distinct, sorted as HetRec is."""
    owned = np.bincount(picks.listener, minlength=len(tagging))
    offsets = np.concatenate([[0], np.cumsum(owned)[:-1]])
    # HetRec: median 20 tag assignments per listener, mean about 100, a long tail.
    actions = np.minimum(np.rint(np.exp(np.log(22.0) + 1.8 * tagging)), 40 * owned).astype(np.int64)
    who = np.repeat(np.arange(len(tagging)), actions)
    row = offsets[who] + np.floor(rng.random(len(who)) * owned[who]).astype(np.int64)
    artist = picks.artist[row]
    scene = scenes.scene_of(artist)
    u = rng.random(len(who))
    slot = (u[:, None] > scenes.tag_cumulative[scene]).sum(axis=1)
    tag = scenes.tag_ids[scene, np.minimum(slot, scenes.tag_ids.shape[1] - 1)]
    kind = rng.random(len(who))
    generic = zipf_rank(rng.random(len(who)), np.full(len(who), n_generic), 1.0 + 1e-3)
    personal = n_named + zipf_rank(rng.random(len(who)), np.full(len(who), tail_size), 0.3)
    own_share = PERSONAL_TAG_SHARE + 0.6 * actions / (actions + 300.0)
    tag = np.where(kind < GENERIC_TAG_SHARE, generic, tag)
    tag = np.where(kind >= 1.0 - own_share[who], personal, tag)
    n_tags = n_named + tail_size
    ids = external[artist]
    width = int(external.max(initial=0)) + 1
    keys = np.unique((who * width + ids) * n_tags + tag)
    pair, tag_index = np.divmod(keys, n_tags)
    listener, artist_id = np.divmod(pair, width)
    return listener, artist_id, tag_index


def _tag_dates(rng: np.random.Generator, n: int) -> list[IntArray]:
    """Day, month, year columns: HetRec's days are nearly always 1."""
    day = np.where(rng.random(n) < 0.98, 1, rng.choice([5, 6, 9], size=n))
    month = rng.integers(1, 13, size=n)
    year = rng.choice(TAG_YEARS, size=n, p=TAG_YEAR_WEIGHTS / TAG_YEAR_WEIGHTS.sum())
    return [day.astype(np.int64), month.astype(np.int64), year.astype(np.int64)]


def _write_artists(out: Output, heard: IntArray, external: IntArray, seed: int) -> None:
    """artists.dat as HetRec has it: sorted by id, LF line ends, UTF-8, ids with gaps."""
    by_id = heard[np.argsort(external[heard])]
    with out.open("artists.dat") as handle:
        handle.write("id\tname\turl\tpictureURL\n")
        block: list[str] = []
        for index in by_id.tolist():
            name = artist_name(index, seed)
            picture = 1000 + (index * 7_919 + seed) % 60_000_000
            block.append(
                f"{external[index]}\t{name}\thttp://www.last.fm/music/{quote_plus(name)}"
                f"\thttp://userserve-ak.last.fm/serve/252/{picture}.jpg\n"
            )
            if len(block) >= 50_000:
                handle.write("".join(block))
                block.clear()
        handle.write("".join(block))


# -- the ListenBrainz layout (Last.fm-1K shape) ----------------------------------------------


def write_listens(world: ListensWorld, folder: Path, seed: int) -> dict[str, object]:
    n_scenes = scene_count(world.catalogue_artists)
    scenes, pairs = plan_scenes(seed, n_scenes, world.catalogue_artists, list(GENERIC_TAGS))
    base = np.random.default_rng([seed, 2, 0])
    tracks_per_artist = np.clip(
        np.rint(np.exp(np.log(12.0) + base.standard_normal(world.catalogue_artists))), 1, 400
    ).astype(np.int64)
    track_start = np.concatenate([[0], np.cumsum(tracks_per_artist)[:-1]]).astype(np.int64)
    activity = base.standard_normal(world.listeners)
    listens = _calibrated(activity, world.listens, 50, 400_000, 1.0)
    breadth = np.clip(
        np.rint(
            np.exp(np.log(600.0) + 0.5 * activity + 0.6 * base.standard_normal(world.listeners))
        ),
        10,
        6000,
    ).astype(np.int64)
    breadth = np.minimum(breadth, np.maximum(10, listens // 4))

    heard_tracks = np.zeros(int(tracks_per_artist.sum()), dtype=bool)
    heard_artists = np.zeros(world.catalogue_artists, dtype=np.int64)
    scene_listeners = np.zeros(n_scenes, dtype=np.int64)
    written = 0
    for listener in range(world.listeners):
        rng = np.random.default_rng([seed, 3, listener])
        picks = pick_artists(rng, scenes, breadth[listener : listener + 1])
        scene_listeners[picks.home[picks.home >= 0]] += 1
        artists, track = _listen_sequence(
            rng, picks, int(listens[listener]), tracks_per_artist, track_start
        )
        times = _listen_times(rng, track, int(listens[listener]))
        heard_tracks[track] = True
        np.add.at(heard_artists, np.unique(artists), 1)
        name = f"user_{listener + 1:06d}"
        _write_export(folder / name, name, listener + 1, artists, track, times, track_start, seed)
        written += len(times)
    scene_of = scenes.scene_of(np.flatnonzero(heard_artists))
    heard = np.flatnonzero(heard_artists)
    by_listeners = heard[np.argsort(-heard_artists[heard], kind="stable")]
    return {
        "listeners": world.listeners,
        "listens": written,
        "artists": int((heard_artists > 0).sum()),
        "tracks": int(heard_tracks.sum()),
        "catalogue_artists": world.catalogue_artists,
        "catalogue_tracks": len(heard_tracks),
        "import": "one `tastemaker import listenbrainz DIR/user_NNNNNN` per listener folder",
        "probe": {
            "listeners": [f"user_{i:06d}" for i in range(1, world.listeners + 1)][:20],
            "artists": [artist_name(int(a), seed) for a in by_listeners[:4]],
        },
        "scenes": [
            {
                "id": s,
                "name": scenes.names[s],
                "family": scenes.family[s],
                "partner": None if scenes.partner[s] < 0 else int(scenes.partner[s]),
                "listeners": int(scene_listeners[s]),
                "artists": [artist_name(int(a), seed) for a in heard[scene_of == s]],
            }
            for s in range(n_scenes)
        ],
        "lookalike_pairs": [{"scenes": [a, b]} for a, b in pairs],
    }


def _listen_sequence(
    rng: np.random.Generator,
    picks: Picks,
    n: int,
    tracks_per_artist: IntArray,
    track_start: IntArray,
) -> tuple[IntArray, IntArray]:
    """Artist and track of each listen: runs of one artist (an album side), Zipf tracks."""
    affinity = (picks.order + 1.0) ** -1.0 * np.exp(0.5 * rng.standard_normal(len(picks.order)))
    affinity = np.where(picks.crossover, 0.3 * affinity, affinity)
    cumulative = np.cumsum(affinity) / affinity.sum()
    runs = n // 2 + 1
    chosen = np.minimum(np.searchsorted(cumulative, rng.random(runs)), len(cumulative) - 1)
    lengths = rng.geometric(1 / 3, size=runs)
    artists = np.repeat(picks.artist[chosen], lengths)[:n]
    if len(artists) < n:  # geometric runs of mean 3 over n/2 runs: practically never short
        artists = np.resize(artists, n)
    ranks = zipf_rank(rng.random(n), tracks_per_artist[artists], TRACK_ZIPF)
    return artists, track_start[artists] + ranks


def _duration_ms(track: IntArray) -> IntArray:
    spread: IntArray = 120_000 + (track * 2_654_435_761 + 12_345) % 300_000
    return spread


def _listen_times(rng: np.random.Generator, track: IntArray, n: int) -> IntArray:
    """Strictly increasing Unix seconds: sessions of back-to-back plays inside a listening span."""
    span = LISTEN_END - LISTEN_START
    begin = LISTEN_START + int(rng.random() * 0.6 * span)
    end = LISTEN_END - int(rng.random() * 0.1 * span)
    sessions = max(1, n // 12)
    starts = np.sort(rng.integers(begin, end, size=sessions))
    session = np.sort(rng.integers(0, sessions, size=n))
    seconds = _duration_ms(track) // 1000
    offset = np.cumsum(seconds) - seconds
    first_of_session = np.searchsorted(session, np.arange(sessions))
    offset -= offset[first_of_session[np.minimum(session, sessions - 1)]]
    times = starts[session] + offset
    steps = np.arange(n)
    strictly: IntArray = np.maximum.accumulate(times - steps) + steps
    return strictly


def _write_export(
    folder: Path,
    name: str,
    user_id: int,
    artists: IntArray,
    track: IntArray,
    times: IntArray,
    track_start: IntArray,
    seed: int,
) -> None:
    """One listener's ListenBrainz export folder: user.json and listens/YYYY/M.jsonl."""
    out = Output(folder)
    with out.open("user.json") as handle:
        json.dump({"user_id": user_id, "username": name}, handle, indent=2)
    unique, inverse = np.unique(track, return_inverse=True)
    order = np.argsort(track, kind="stable")
    first_artist = artists[order][np.searchsorted(track[order], unique)]
    fragments = [
        _track_json(int(t), int(a), int(t - track_start[a]), seed)
        for t, a in zip(unique.tolist(), first_artist.tolist(), strict=True)
    ]
    months = times.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
    bounds = np.flatnonzero(np.diff(months)) + 1
    times_list = times.tolist()
    inverse_list = inverse.tolist()
    for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), len(times)], strict=True):
        year, month = divmod(int(months[lo]), 12)
        with out.open(f"listens/{1970 + year}/{month + 1}.jsonl") as handle:
            handle.write(
                "".join(
                    '{"listened_at":' + str(times_list[i]) + fragments[inverse_list[i]]
                    for i in range(lo, hi)
                )
            )
    out.commit()


def _track_json(track: int, artist: int, rank: int, seed: int) -> str:
    """Everything of a listen line after its time, ending in a newline."""
    meta: dict[str, object] = {
        "artist_name": artist_name(artist, seed),
        "track_name": made_up_name(track, seed * 104_729 + 3, (2, 1)),
        "release_name": made_up_name(artist * 64 + rank // 12, seed * 15_485_863 + 5, (1, 2)),
        "additional_info": {"duration_ms": int(_duration_ms(np.array([track]))[0])},
    }
    mapping: dict[str, object] = {}
    if (artist * 31 + seed) % 10:  # nine artists in ten have a MusicBrainz id
        mapping["artist_mbids"] = [mbid_for("artist", artist, seed)]
    if (track * 17 + seed) % 5:  # four tracks in five
        mapping["recording_mbid"] = mbid_for("recording", track, seed)
    if mapping:
        meta["mbid_mapping"] = mapping
    return (
        ',"track_metadata":' + json.dumps(meta, ensure_ascii=False, separators=(",", ":")) + "}\n"
    )


# -- command line ----------------------------------------------------------------------------


def generator_digest() -> str:
    """sha256 of this file: a world made by another version of the generator is another world."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def generate(name: str, folder: Path, seed: int = 42, force: bool = False) -> dict[str, object]:
    """Write world `name` into `folder` (with truth.json) and return the truth."""
    world = WORLDS.get(name)
    if world is None:
        raise SystemExit(f"Error: no world {name!r}: choose one of {', '.join(WORLDS)}")
    prepare_folder(folder, force)
    started = time.perf_counter()
    if isinstance(world, HetrecWorld):
        facts = write_hetrec(world, folder, seed)
    else:
        facts = write_listens(world, folder, seed)
    truth = {
        "world": world.name,
        "layout": world.layout,
        "seed": seed,
        "about": world.about,
        "made_by": "bench/worlds.py",
        "generator_sha256": generator_digest(),
        **facts,
    }
    out = Output(folder)
    with out.open("truth.json") as handle:
        json.dump(truth, handle, ensure_ascii=False, separators=(",", ":"))
        handle.write("\n")
    out.commit()
    truth["seconds"] = round(time.perf_counter() - started, 2)
    return truth


def _counts(truth: dict[str, object]) -> Iterator[str]:
    for key in ("listeners", "artists", "rows", "tag_rows", "listens", "tracks"):
        if key in truth:
            yield f"{truth[key]:,} {key.replace('_', ' ')}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", choices=sorted(WORLDS), help="which world to make")
    parser.add_argument("--out", type=Path, help="folder to write it into")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--force", action="store_true", help="replace a non-empty --out folder")
    parser.add_argument("--list", action="store_true", help="list the worlds and stop")
    args = parser.parse_args(argv)
    if args.list or not args.world:
        for world in WORLDS.values():
            size = (
                f"{world.listeners:,} listeners, ~{world.artists:,} artists, ~{world.rows:,} rows"
                if isinstance(world, HetrecWorld)
                else f"{world.listeners:,} listeners, ~{world.listens:,} listens"
            )
            print(f"{world.name:<15} {world.layout:<13} {size}: {world.about}")
        return 0 if args.list else 2
    if args.out is None:
        parser.error("--out DIR is required")
    truth = generate(args.world, args.out, args.seed, args.force)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.world} -> {args.out}: {', '.join(_counts(truth))} "
        f"in {truth['seconds']} s (peak {peak:.0f} MiB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
