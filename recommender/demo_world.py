"""Generate the demo world: a fictional listening history with a known right answer.

Run `python -m recommender.demo_world --out datasets/demo` to (re)write the committed files.
Everything is drawn from one seeded generator, so the output is byte-identical on every run;
a test regenerates it and compares. What is planted (and so what the model and graph must find)
is written to `truth.json` and described in `datasets/demo/README.md`.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

SEED = 20251031
END = datetime(2025, 10, 31, 23, 59, 59, tzinfo=UTC)
DAYS = 365
DRIFT_DAYS = 60
ARTISTS_PER_SCENE = 24
COLD_START_PER_SCENE = 2
LISTENERS = 300
DRIFT_LISTENERS = 30
TARGET_LISTENS = 100_000
# Feedback and moments of the day are planted on these listeners only (by index), so the ones
# tests and the README quote (all below 100) and the drifting listeners keep their history.
PLANTED = range(101, LISTENERS - DRIFT_LISTENERS + 1)
MOMENT_LISTENERS = 12
MOMENT_MIN_LISTENS = 300  # only active listeners: enough recent listens in either half
MORNING_HOURS = (6, 11)  # a morning artist's listens start in [6:00, 11:00) UTC
EVENING_HOURS = (18, 23)
SKIPPED_TRACKS = 12  # a skipper's most played home-scene tracks that may be skipped


@dataclass(frozen=True)
class SceneSpec:
    slug: str
    family: str
    tags: tuple[tuple[str, int], ...]  # (tag, typical number of people who gave it)


SCENES: tuple[SceneSpec, ...] = (
    SceneSpec(
        "street-punk", "punk", (("hardcore", 30), ("street punk", 24), ("oi", 18), ("punk", 14))
    ),
    SceneSpec("ska-punk", "punk", (("ska", 28), ("ska punk", 22), ("horns", 10), ("punk", 14))),
    SceneSpec(
        "midwest-emo", "punk", (("emo", 30), ("midwest emo", 22), ("twinkly", 12), ("punk", 8))
    ),
    SceneSpec(
        "metalcore",
        "heavy",
        (("hardcore", 30), ("metalcore", 24), ("straight edge", 16), ("metal", 12)),
    ),
    SceneSpec("doom-metal", "heavy", (("doom", 28), ("sludge", 18), ("slow", 10), ("metal", 14))),
    SceneSpec(
        "power-metal", "heavy", (("power metal", 28), ("epic", 16), ("fantasy", 10), ("metal", 14))
    ),
    SceneSpec(
        "gym-workout",
        "beats",
        (("workout", 28), ("edm", 22), ("high energy", 14), ("electronic", 12)),
    ),
    SceneSpec(
        "synthwave", "beats", (("synthwave", 28), ("retro", 18), ("80s", 12), ("electronic", 12))
    ),
    SceneSpec("emo-rap", "beats", (("emo", 30), ("emo rap", 22), ("sad", 12), ("hip hop", 10))),
    SceneSpec(
        "trail-folk", "roots", (("folk", 26), ("hiking", 22), ("outdoor", 16), ("acoustic", 12))
    ),
    SceneSpec(
        "americana", "roots", (("americana", 28), ("country", 16), ("roots", 12), ("folk", 12))
    ),
    SceneSpec(
        "chamber-folk",
        "roots",
        (("chamber folk", 26), ("strings", 16), ("baroque pop", 12), ("folk", 12)),
    ),
)
LOOKALIKE_PAIRS = (("street-punk", "metalcore", "hardcore"), ("midwest-emo", "emo-rap", "emo"))
# A bridge artist belongs to the first scene and is genuinely played by the second's listeners.
BRIDGES = (("ska-punk", "street-punk"), ("synthwave", "gym-workout"), ("americana", "trail-folk"))
DRIFT = ("gym-workout", "trail-folk")

_FIRST = (
    "Rust",
    "Velvet",
    "Copper",
    "Hollow",
    "Neon",
    "Granite",
    "Paper",
    "Static",
    "Amber",
    "Cinder",
    "Lantern",
    "Marble",
    "Thistle",
    "Iron",
    "Willow",
    "Signal",
    "Cobalt",
    "Ember",
    "Harbor",
    "Juniper",
    "Quartz",
    "Saffron",
    "Tundra",
    "Vesper",
    "Morrow",
    "Pylon",
    "Bramble",
    "Glacier",
    "Orchid",
    "Falcon",
)
_SECOND = (
    "Sparrows",
    "Engines",
    "Lanterns",
    "Coyotes",
    "Parade",
    "Assembly",
    "Choir",
    "Machines",
    "Tides",
    "Foxes",
    "Pilots",
    "Ghosts",
    "Orchard",
    "Brigade",
    "Satellites",
    "Wolves",
    "Harvest",
    "Circuit",
    "Lodge",
    "Meridian",
    "Drifters",
    "Kites",
    "Fathoms",
    "Ravens",
    "Union",
    "Cartographers",
    "Hymnal",
    "Quarry",
    "Riot",
    "Embassy",
)
_WORDS = (
    "north",
    "glass",
    "river",
    "static",
    "summer",
    "broken",
    "signal",
    "winter",
    "golden",
    "empty",
    "last",
    "slow",
    "burning",
    "quiet",
    "wild",
    "paper",
    "midnight",
    "open",
    "falling",
    "electric",
    "hollow",
    "silver",
    "little",
    "long",
    "second",
    "distant",
    "lonely",
    "bright",
    "heavy",
    "early",
)
_NOUNS = (
    "road",
    "heart",
    "light",
    "city",
    "song",
    "fire",
    "line",
    "house",
    "sky",
    "water",
    "trail",
    "static",
    "night",
    "ghost",
    "letter",
    "anthem",
    "engine",
    "ridge",
    "garden",
    "wire",
    "harbour",
    "morning",
)


def _artist_names(rng: np.random.Generator, count: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        first = _FIRST[rng.integers(len(_FIRST))]
        second = _SECOND[rng.integers(len(_SECOND))]
        name = f"The {first} {second}" if rng.random() < 0.5 else f"{first} {second}"
        key = f"{first} {second}"
        if key not in seen:
            seen.add(key)
            names.append(name)
    return names


def _title(rng: np.random.Generator) -> str:
    word = _WORDS[rng.integers(len(_WORDS))]
    noun = _NOUNS[rng.integers(len(_NOUNS))]
    return f"{word} {noun}".title()


def _zipf_weights(n: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def _pick(rng: np.random.Generator, p: np.ndarray) -> int:
    """`rng.choice(len(p), p=p)` without its per-call checks: the same single uniform draw and
    the same cumulative search, so the stream (and the committed files) stay identical."""
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    return int(cdf.searchsorted(rng.random(), side="right"))


@dataclass
class World:
    artists: list[tuple[int, str, str]]  # id, name, scene
    artist_tags: list[tuple[int, str, int]]
    tracks: list[tuple[int, int, str, str, int]]  # id, artist_id, title, album, duration_ms
    listens: list[tuple[str, int, int, int]]  # listener, track_id, listened_at, ms_played
    truth: dict[str, object]
    # listener, kind (love/hate/skip), artist_id, track_id (None: the artist), at
    feedback: list[tuple[str, str, int, int | None, int]] = field(default_factory=list)


def generate(seed: int = SEED) -> World:
    rng = np.random.default_rng(seed)
    per_scene = ARTISTS_PER_SCENE + COLD_START_PER_SCENE
    names = _artist_names(rng, len(SCENES) * per_scene)
    artists: list[tuple[int, str, str]] = []
    artist_tags: list[tuple[int, str, int]] = []
    scene_artists: dict[str, list[int]] = {}
    cold_start: list[int] = []
    for s, scene in enumerate(SCENES):
        ids = []
        for a in range(per_scene):
            artist_id = s * per_scene + a + 1
            artists.append((artist_id, names[artist_id - 1], scene.slug))
            for tag, typical in scene.tags:
                count = max(1, int(rng.poisson(typical * (1.0 - 0.5 * a / per_scene))))
                artist_tags.append((artist_id, tag, count))
            if a < ARTISTS_PER_SCENE:
                ids.append(artist_id)
            else:
                cold_start.append(artist_id)
        scene_artists[scene.slug] = ids

    tracks: list[tuple[int, int, str, str, int]] = []
    artist_tracks: dict[int, list[int]] = {}
    for artist_id, _name, _ in artists:
        album = f"{_title(rng)}"
        titles: set[str] = set()
        for _ in range(int(rng.integers(5, 10))):
            title = _title(rng)
            if title in titles:
                continue
            titles.add(title)
            track_id = len(tracks) + 1
            tracks.append((track_id, artist_id, title, album, int(rng.integers(120, 360)) * 1000))
            artist_tracks.setdefault(artist_id, []).append(track_id)

    # Bridge artists: the 3rd most popular act of the first scene, also played in the second.
    bridge_artist = {pair: scene_artists[pair[0]][2] for pair in BRIDGES}

    slugs = [scene.slug for scene in SCENES]
    family_of = {scene.slug: scene.family for scene in SCENES}
    regular = LISTENERS - DRIFT_LISTENERS
    listener_names = [f"listener-{i:03d}" for i in range(1, LISTENERS + 1)]
    drift_names = listener_names[regular:]
    activity = rng.lognormal(mean=0.0, sigma=0.6, size=LISTENERS)
    listens_per = np.maximum(40, (activity / activity.sum() * TARGET_LISTENS * 1.03).astype(int))
    start = END - timedelta(days=DAYS)
    drift_since = END - timedelta(days=DRIFT_DAYS)
    end_ts, start_ts, drift_ts = (
        int(END.timestamp()),
        int(start.timestamp()),
        int(drift_since.timestamp()),
    )

    def scene_pool(slug: str) -> tuple[list[int], np.ndarray]:
        pool = list(scene_artists[slug])
        weights = list(_zipf_weights(len(pool), 1.1))
        for (_home, guest), artist_id in bridge_artist.items():
            if guest == slug:
                pool.append(artist_id)
                weights.append(0.12)
        w = np.asarray(weights)
        return pool, w / w.sum()

    pools = {slug: scene_pool(slug) for slug in slugs}
    track_weights = {n: _zipf_weights(n, 0.9) for n in range(1, 10)}
    listens: list[tuple[str, int, int, int]] = []
    homes: dict[str, list[str]] = {}
    for i, listener in enumerate(listener_names):
        if listener in drift_names:
            mix = None
        else:
            home = slugs[i % len(slugs)]
            siblings = [s for s in slugs if family_of[s] == family_of[home] and s != home]
            second = siblings[int(rng.integers(len(siblings)))] if rng.random() < 0.4 else None
            mix = [(home, 1.0)] if second is None else [(home, 0.8), (second, 0.2)]
            mix_weights = np.asarray([w for _, w in mix])
            homes[listener] = [home] + ([second] if second else [])
        # Each listener knows a personal subset of each scene (long tail, not everyone).
        known = {slug: rng.random(len(pools[slug][0])) < 0.75 for slug in slugs}
        for _ in range(int(listens_per[i])):
            ts = int(rng.integers(start_ts, end_ts))
            if mix is None:
                slug = (
                    DRIFT[1]
                    if (ts >= drift_ts and rng.random() < 0.9)
                    or (ts < drift_ts and rng.random() < 0.03)
                    else DRIFT[0]
                )
            else:
                slug = mix[_pick(rng, mix_weights)][0]
            pool, weights = pools[slug]
            mask = known[slug]
            w = weights * mask
            if w.sum() == 0:
                w = weights
            artist_id = pool[_pick(rng, w / w.sum())]
            artist_track_ids = artist_tracks[artist_id]
            tw = track_weights[len(artist_track_ids)]
            track_id = artist_track_ids[_pick(rng, tw)]
            duration = tracks[track_id - 1][4]
            played = duration if rng.random() < 0.85 else int(duration * rng.uniform(0.3, 0.95))
            listens.append((listener, track_id, ts, played))
    # The plantings draw from a stream of their own, so every listen above stays as it was
    # (only the moment listeners' listens move within their day).
    planter = _Planter(
        np.random.default_rng([seed, 17]), tracks, scene_artists, homes, start_ts, end_ts
    )
    moments = planter.moments(listens, listener_names, listens_per)
    feedback, feedback_truth = planter.feedback(listens, listener_names)
    listens.sort(key=lambda row: (row[2], row[0], row[1]))

    name_of = {artist_id: name for artist_id, name, _ in artists}
    title_of = {t[0]: t[2] for t in tracks}
    scene_slug = {artist_id: slug for artist_id, _, slug in artists}
    truth: dict[str, object] = {
        "seed": seed,
        "end": END.isoformat(),
        "scenes": {
            scene.slug: {
                "family": scene.family,
                "tags": [tag for tag, _ in scene.tags],
                "artists": [name_of[a] for a in scene_artists[scene.slug]],
            }
            for scene in SCENES
        },
        "lookalike_pairs": [list(pair) for pair in LOOKALIKE_PAIRS],
        "bridges": [
            {"artist": name_of[artist_id], "scenes": list(pair)}
            for pair, artist_id in bridge_artist.items()
        ],
        "cold_start_artists": [name_of[a] for a in cold_start],
        # Cold-start artists have their scene's tags but no listens; their scene is known here.
        "cold_start_scenes": {name_of[a]: scene_slug[a] for a in cold_start},
        "listener_scenes": homes,
        "drift_listeners": drift_names,
        "drift": {"from": DRIFT[0], "to": DRIFT[1], "since": drift_since.isoformat()},
        "moments": {
            "time_zone": "UTC",
            "hours": {"morning": list(MORNING_HOURS), "evening": list(EVENING_HOURS)},
            "listeners": {
                listener: {half: [name_of[a] for a in ids] for half, ids in split.items()}
                for listener, split in moments.items()
            },
        },
        "feedback": {
            "rules": FEEDBACK_RULES,
            **{
                key: [
                    {
                        **row,
                        "artist": name_of[int(str(row["artist"]))],
                        "title": title_of.get(int(str(row["track_id"] or 0))),
                    }
                    for row in rows
                ]
                for key, rows in feedback_truth.items()
            },
        },
    }
    return World(artists, artist_tags, tracks, listens, truth, feedback)


FEEDBACK_RULES = [
    "listeners 101-270 with index % 10 == 1 hate their third most played artist and the most "
    "widely played artist of their home scene that they never played (20 days before the end)",
    "index % 10 == 6: hate the most played track of their second most played artist",
    "index % 5 == 2: love the most played track of their 4th, 5th and 6th most played artists "
    "(at a random time of the year)",
    "index % 10 == 7: also love their 8th most played artist",
    "index % 5 == 4: of their 12 most played home-scene tracks with at least 3 plays (not loved "
    "or hated), about 35% are skipped twice as often as played (heavy) and 35% a third as often "
    "(some); skips are feedback, never listens",
    "moments: the first 12 listeners with index % 5 == 0 and at least 300 listens play their "
    "1st, 3rd, 5th ... most played artists in the morning and the others in the evening",
]


class _Planter:
    """Plants the moments of the day and the feedback, with known rules (see FEEDBACK_RULES)."""

    def __init__(
        self,
        rng: np.random.Generator,
        tracks: list[tuple[int, int, str, str, int]],
        scene_artists: dict[str, list[int]],
        homes: dict[str, list[str]],
        start_ts: int,
        end_ts: int,
    ) -> None:
        self.rng = rng
        self.artist_of = {t[0]: t[1] for t in tracks}
        self.scene_artists = scene_artists
        self.homes = homes
        self.start_ts, self.end_ts = start_ts, end_ts

    def _plays(
        self, listens: list[tuple[str, int, int, int]]
    ) -> tuple[dict[str, Counter[int]], dict[str, Counter[int]]]:
        """Per listener: plays per artist and per track."""
        artists: dict[str, Counter[int]] = defaultdict(Counter)
        tracks: dict[str, Counter[int]] = defaultdict(Counter)
        for listener, track_id, _, _ in listens:
            artists[listener][self.artist_of[track_id]] += 1
            tracks[listener][track_id] += 1
        return artists, tracks

    @staticmethod
    def _ranked(counts: Counter[int]) -> list[int]:
        return sorted(counts, key=lambda k: (-counts[k], k))

    def moments(
        self,
        listens: list[tuple[str, int, int, int]],
        names: list[str],
        listens_per: np.ndarray,
    ) -> dict[str, dict[str, list[int]]]:
        """Moment listeners play half their artists in the morning, half in the evening: each
        of their listens moves to a random time of its own day inside that half's hours."""
        chosen = [
            names[i - 1] for i in PLANTED if i % 5 == 0 and listens_per[i - 1] >= MOMENT_MIN_LISTENS
        ][:MOMENT_LISTENERS]
        artist_plays, _ = self._plays(listens)
        split: dict[str, dict[str, list[int]]] = {}
        half_of: dict[tuple[str, int], tuple[int, int]] = {}
        for listener in chosen:
            ranked = self._ranked(artist_plays[listener])
            split[listener] = {"morning": ranked[0::2], "evening": ranked[1::2]}
            for a in ranked[0::2]:
                half_of[(listener, a)] = MORNING_HOURS
            for a in ranked[1::2]:
                half_of[(listener, a)] = EVENING_HOURS
        taken = {(r[0], r[2], r[1]) for r in listens}
        for k, (listener, track_id, ts, played) in enumerate(listens):
            hours = half_of.get((listener, self.artist_of[track_id]))
            if hours is None:
                continue
            day = ts - ts % 86_400
            moved = day + int(self.rng.integers(hours[0] * 3600, hours[1] * 3600))
            if moved < self.start_ts:
                moved += 86_400
            while (listener, moved, track_id) in taken:  # never two listens at one second
                moved += 1
            taken.discard((listener, ts, track_id))
            taken.add((listener, moved, track_id))
            listens[k] = (listener, track_id, moved, played)
        return split

    def feedback(
        self, listens: list[tuple[str, int, int, int]], names: list[str]
    ) -> tuple[list[tuple[str, str, int, int | None, int]], dict[str, list[dict[str, object]]]]:
        artist_plays, track_plays = self._plays(listens)
        audience: Counter[int] = Counter()
        for counts in artist_plays.values():
            audience.update(counts.keys())
        rows: list[tuple[str, str, int, int | None, int]] = []
        truth: dict[str, list[dict[str, object]]] = {"hates": [], "loves": [], "skips": []}
        hate_at = self.end_ts - 20 * 86_400

        def top_track(listener: str, artist_id: int) -> int:
            mine = Counter(
                {t: n for t, n in track_plays[listener].items() if self.artist_of[t] == artist_id}
            )
            return self._ranked(mine)[0]

        def add(
            listener: str,
            kind: str,
            artist_id: int,
            track_id: int | None,
            at: int,
            rule: str,
            **extra: object,
        ) -> None:
            rows.append((listener, kind, artist_id, track_id, at))
            key = {"hate": "hates", "love": "loves", "skip": "skips"}[kind]
            if kind != "skip":
                truth[key].append(
                    {
                        "listener": listener,
                        "artist": artist_id,
                        "track_id": track_id,
                        "rule": rule,
                        **extra,
                    }
                )

        for i in PLANTED:
            listener = names[i - 1]
            ranked = self._ranked(artist_plays[listener])
            if i % 10 == 1 and len(ranked) >= 3:
                add(
                    listener,
                    "hate",
                    ranked[2],
                    None,
                    hate_at + int(self.rng.integers(86_400)),
                    "third most played artist",
                )
                home = self.homes[listener][0]
                unheard = [a for a in self.scene_artists[home] if a not in artist_plays[listener]]
                if unheard:
                    popular = max(unheard, key=lambda a: (audience[a], -a))
                    add(
                        listener,
                        "hate",
                        popular,
                        None,
                        hate_at + int(self.rng.integers(86_400)),
                        "most widely played unheard artist of the home scene",
                    )
            if i % 10 == 6 and len(ranked) >= 2:
                add(
                    listener,
                    "hate",
                    ranked[1],
                    top_track(listener, ranked[1]),
                    hate_at + int(self.rng.integers(86_400)),
                    "most played track of the second most played artist",
                )
            if i % 5 == 2:
                for rank in (3, 4, 5):
                    if rank < len(ranked):
                        add(
                            listener,
                            "love",
                            ranked[rank],
                            top_track(listener, ranked[rank]),
                            int(self.rng.integers(self.start_ts, self.end_ts)),
                            f"most played track of artist number {rank + 1}",
                        )
            if i % 10 == 7 and len(ranked) >= 8:
                add(
                    listener,
                    "love",
                    ranked[7],
                    None,
                    int(self.rng.integers(self.start_ts, self.end_ts)),
                    "8th most played artist",
                )
        judged = {(r[0], r[3]) for r in rows if r[3] is not None}
        judged_artists = {(r[0], r[2]) for r in rows if r[1] == "hate" and r[3] is None}
        for i in PLANTED:
            if i % 5 != 4:
                continue
            listener = names[i - 1]
            home_artists = set(self.scene_artists[self.homes[listener][0]])
            mine = track_plays[listener]
            candidates = [
                t
                for t in self._ranked(mine)
                if self.artist_of[t] in home_artists
                and mine[t] >= 3
                and (listener, t) not in judged
                and (listener, self.artist_of[t]) not in judged_artists
            ][:SKIPPED_TRACKS]
            for track_id in candidates:
                u = float(self.rng.random())
                if u < 0.35:
                    skips, how = 2 * mine[track_id], "heavy"
                elif u < 0.7:
                    skips, how = max(1, mine[track_id] // 3), "some"
                else:
                    continue
                for _ in range(skips):
                    rows.append(
                        (
                            listener,
                            "skip",
                            self.artist_of[track_id],
                            track_id,
                            int(self.rng.integers(self.start_ts, self.end_ts)),
                        )
                    )
                truth["skips"].append(
                    {
                        "listener": listener,
                        "artist": self.artist_of[track_id],
                        "track_id": track_id,
                        "plays": mine[track_id],
                        "skips": skips,
                        "share": how,
                    }
                )
        rows.sort(key=lambda r: (r[4], r[0], r[1], r[2], r[3] or 0))
        return rows, truth


def _csv_bytes(header: list[str], rows: list[tuple[object, ...]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write(world: World, out: Path) -> list[Path]:
    """Write the world's files into `out`; gzip with a fixed mtime so bytes never vary."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "artists.csv": _csv_bytes(["artist_id", "name"], [(a, n) for a, n, _ in world.artists]),
        "artist_tags.csv": _csv_bytes(["artist_id", "tag", "count"], list(world.artist_tags)),
        "tracks.csv": _csv_bytes(
            ["track_id", "artist_id", "title", "album", "duration_ms"], list(world.tracks)
        ),
        "truth.json": (json.dumps(world.truth, indent=1, ensure_ascii=False) + "\n").encode(),
    }
    written = []
    for name, data in files.items():
        (out / name).write_bytes(data)
        written.append(out / name)
    listens = _csv_bytes(["listener", "track_id", "listened_at", "ms_played"], list(world.listens))
    with (
        (out / "listens.csv.gz").open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(listens)
    written.append(out / "listens.csv.gz")
    feedback = _csv_bytes(
        ["listener", "kind", "artist_id", "track_id", "at"],
        [(who, kind, a, "" if t is None else t, at) for who, kind, a, t, at in world.feedback],
    )
    (out / "feedback.csv").write_bytes(feedback)
    written.append(out / "feedback.csv")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write the files into")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    world = generate(args.seed)
    for path in write(world, args.out):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    print(
        f"{len(world.listens):,} listens, {len(world.artists)} artists, {len(world.tracks)} tracks,"
        f" {len(world.feedback):,} loves, hates and skips"
    )


if __name__ == "__main__":
    main()
