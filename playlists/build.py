"""`build_playlist`: the one public call behind `tastemaker playlist`.

Steps: make the request (the listener's terms, with this run's arguments overriding them, and
the mix), load the model, build the listener's profile once, let every stage of the mix propose
its candidates (each with its reason, and what it left out), assemble the exact mix in a
flowing order. With `save=True` the playlist is stored with its parameters, model id, terms and
their effects, notes and every track's reason, in one transaction; by default nothing is
written.

Steering: `seed_artist` makes that artist's scene a home scene, puts the listener's own tracks
of it first, adds it to the evidence artists ("because of") and bridge starts, and opens the
walk with it. `tag` puts artists carrying the tag first within every kind; nothing else is
dropped, so the mix and the reasons still hold.

The moment: `context` (now, morning, afternoon, evening, night, weekday, weekend) or `at` (an
ISO date and time, in the listener's time zone unless it carries an offset) weighs each listen
by how close its hour and kind of day are to it (`playlists.moment`), for familiar picks and,
through a fold-in, the model's scores (`playlists.profile.moment_scores`). `made_at` is when
the playlist is made (the wall clock unless given): its `created_at`, what `now` means, and the
clock of offers and rests (`playlists.offers`).

Playable: with the `playable` term (or its override) on, the stages offer only tracks that
resolve to that kind of location (`playlists.playable`); every track says where it can be
played.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from playlists.assemble import Similarity, assemble
from playlists.errors import NotEnoughCandidates, NotEnoughUnexpected
from playlists.model import UNEXPECTED, Playlist, track_ids, with_locations
from playlists.playable import explained, notes_on_playable, propose
from playlists.profile import Catalogue, ListenerProfile, ModelView, build_profile
from playlists.reasons import iso
from playlists.request import (
    DEFAULT_ARTIST_CAP,
    DEFAULT_FAMILIAR_SHARE,
    DEFAULT_LENGTH,
    Part,
    PlaylistRequest,
    playlist_request,
)
from playlists.stages import STAGES, Effects, StageRegistry
from playlists.stages.unexpected import UNEXPECTED_TOP_FRACTION
from playlists.storage import save_playlist
from recommender.library import locate_tracks
from recommender.store import Store
from recommender.terms import Terms


def load_default_model(store: Store) -> ModelView:
    """The newest usable model (raises ModelMissing / ModelStale: run `tastemaker train`)."""
    from recommender.training import load_model

    model: ModelView = load_model(store)
    return model


def build_playlist(
    store: Store,
    listener: str,
    length: int = DEFAULT_LENGTH,
    surprise: float | None = None,
    seed_artist: str | None = None,
    tag: str | None = None,
    *,
    model: ModelView | None = None,
    terms: Terms | None = None,
    no_repeat_days: int | None = None,
    artist_cap: int = DEFAULT_ARTIST_CAP,
    new_listener: bool = False,
    extra_parts: Sequence[Part] = (),
    stages: StageRegistry = STAGES,
    save: bool = False,
    context: str | None = None,
    at: str | None = None,
    made_at: int | None = None,
    playable: str | None = None,
) -> Playlist:
    """Build a playlist for `listener` (stored only with `save=True`); see the module docstring.

    `extra_parts` adds kinds to the standard mix (after the unexpected part), proposed by the
    stages registered in `stages`.
    """
    request = playlist_request(
        store,
        listener,
        length,
        surprise,
        seed_artist,
        tag,
        terms=terms,
        no_repeat_days=no_repeat_days,
        artist_cap=artist_cap,
        new_listener=new_listener,
        extra_parts=extra_parts,
        context=context,
        at=at,
        made_at=made_at,
        playable=playable,
    )
    if model is None:
        model = load_default_model(store)
    request, missing = _what_the_data_supports(request, model)
    catalogue = Catalogue.of(store, model.graph, model)
    profile = build_profile(store, request, model, catalogue)
    results = propose(stages, request, profile, catalogue)
    try:
        entries = assemble(
            {kind: r.candidates for kind, r in results.items()},
            request.mix,
            similarity=_similarity(model),
            start_artist=profile.seed_artist,
            found={kind: r.summary for kind, r in results.items()},
        )
    except (NotEnoughCandidates, NotEnoughUnexpected) as exc:
        if profile.playable is not None:
            raise explained(exc, request.terms.playable, results) from None
        raise
    effects = sum((r.effects for r in results.values()), Effects()).counts()
    moment = {} if request.moment is None else {"moment": request.moment.to_dict()}
    playlist = Playlist(
        id=f"pl-{uuid.uuid4().hex[:12]}",
        listener=listener,
        created_at=datetime.fromtimestamp(request.made_at, UTC).isoformat(timespec="seconds"),
        params={
            "length": request.length,
            "surprise": request.surprise,
            "seed_artist": seed_artist,
            "tag": tag,
            "artist_cap": request.artist_cap,
            "familiar_share": DEFAULT_FAMILIAR_SHARE,
            "unexpected_top_fraction": UNEXPECTED_TOP_FRACTION,
            "as_of": iso(profile.as_of),
            **moment,
        },
        model_id=model.model_id,
        personalised=profile.personalised,
        terms={
            **request.terms.as_dict(),
            "overridden": list(request.overridden),
            "effects": effects,
            **effects,
        },
        notes=(
            *missing,
            *profile.notes,
            *_seed_notes(profile, catalogue, [c.artist_id for c in entries]),
            *_effect_notes(effects, request.terms),
            *_moment_notes(profile, model),
            *notes_on_playable(stages, request, profile, catalogue, results),
        ),
        tracks=with_locations(
            (c.at(i) for i, c in enumerate(entries, start=1)),
            locate_tracks(store, track_ids(entries)),
        ),
    )
    if save:
        save_playlist(store, playlist)
    return playlist


def _what_the_data_supports(
    request: PlaylistRequest, model: ModelView
) -> tuple[PlaylistRequest, list[str]]:
    """The request, without the parts the trained data cannot supply, and notes saying so.

    Unexpected picks leave the listener's scenes by a co-listening bridge: an artist graph with
    no scenes at all (a store of a few listeners who share few artists) has none to offer, so
    the playlist is built from what there is and says why, instead of failing. A graph with
    scenes that merely holds too few bridged artists still fails with the count, as always.
    """
    if model.graph.scenes or not any(p.kind == UNEXPECTED for p in request.mix.parts):
        return request, []
    asked = request.mix.exact_count(next(p for p in request.mix.parts if p.kind == UNEXPECTED))
    parts = tuple(p for p in request.mix.parts if p.kind != UNEXPECTED)
    kept = replace(request, mix=replace(request.mix, parts=parts))
    listeners = len(model.listeners)
    who = "one listener" if listeners == 1 else f"{listeners} listeners who share too few artists"
    note = (
        f"Only your own music: the model was trained on {who}, so the artist graph has no "
        "scenes. Discovery and unexpected picks need a community: import other listeners' "
        "histories (a household, a club, HetRec or the demo world) and train again."
    )
    if asked:
        note += f" ({asked} unexpected picks were asked for.)"
    return kept, [note]


def _seed_notes(
    profile: ListenerProfile, catalogue: Catalogue, artist_ids: Sequence[int]
) -> list[str]:
    """Why the seed artist is not in the playlist, when it is not (a seed is never ignored)."""
    seed = profile.seed_artist
    if seed is None or seed in artist_ids:
        return []
    name = catalogue.names.get(seed, "The seed artist")
    if seed in profile.excluded_artists or seed in profile.excluded_by_tag:
        why = "your terms exclude it"
    elif seed in profile.history:
        why = "its tracks were played too recently, or a curator rejected them for you"
    elif not profile.personalised:
        why = "none of its tracks could be placed"
    else:
        why = (
            "none of your artists shares enough listeners with it to give a reason that holds"
        )
    scene = (
        " (its scene was still counted as one of yours)"
        if profile.seed_scene is not None
        else ""
    )
    return [f"{name} does not open the playlist: {why}{scene}"]


def _effect_notes(effects: dict[str, int], terms: Terms) -> list[str]:
    notes = []
    by_terms = effects["excluded_artists"] + effects["excluded_tags"]
    if by_terms:
        notes.append(f"{by_terms} artists left out by your exclusions")
    if effects["excluded_tracks"]:
        notes.append(
            f"{effects['excluded_tracks']} tracks left out because you played them in the last "
            f"{terms.no_repeat_days} days"
        )
    if effects["lookalike_left_out"]:
        notes.append(
            f"{effects['lookalike_left_out']} of your artists from a look-alike scene were left "
            "out so they do not stand in for your main scenes"
        )
    if effects["curator_rejected"]:
        notes.append(
            f"{effects['curator_rejected']} tracks left out because a curator rejected them for you"
        )
    if effects["curator_links"]:
        notes.append(
            f"{effects['curator_links']} links between artists rejected by a curator were not "
            "used to explain any pick"
        )
    if terms.ignore_sources:
        notes.append(f"Listens from {', '.join(terms.ignore_sources)} were not used")
    notes.extend(_feedback_notes(effects))
    return notes


def _feedback_notes(effects: dict[str, int]) -> list[str]:
    """What the listener's own feedback and the ignored offers kept out (keys only present
    when non-zero)."""
    notes = []
    if effects.get("hated_left_out"):
        notes.append(f"{effects['hated_left_out']} artists or tracks you hate were left out")
    if effects.get("skipped_left_out"):
        notes.append(
            f"{effects['skipped_left_out']} of your tracks were left out because you skip them "
            "more often than you play them through"
        )
    if effects.get("rested"):
        notes.append(
            f"{effects['rested']} new artists are resting: offered in your recent playlists and "
            "not played since"
        )
    return notes


def _moment_notes(profile: ListenerProfile, model: ModelView) -> list[str]:
    moment = profile.moment
    if moment is None:
        return []
    notes = [
        f"Made for {moment.label} ({moment.time_zone}): each of your listens counts by how close "
        "its hour and day are to it"
    ]
    if profile.personalised and model.item_vectors is None:
        notes.append("This model has no artist vectors: only your familiar picks follow the moment")
    return notes


def _similarity(model: ModelView) -> Similarity:
    """Cosine of the model's artist vectors (0 for an artist it does not know, or without
    vectors)."""
    vectors = model.item_vectors
    if vectors is None:
        return lambda a, b: 0.0
    ids = np.asarray(model.artist_ids)
    order = np.argsort(ids, kind="stable")  # trained models keep id order: a no-op there
    ranked = ids[order]
    units: dict[int, np.ndarray | None] = {}  # only the playlist's artists are ever asked for

    def unit(artist_id: int) -> np.ndarray | None:
        if artist_id not in units:
            k = int(np.searchsorted(ranked, artist_id))
            found = None
            if k < len(ranked) and int(ranked[k]) == artist_id:
                v = np.asarray(vectors[int(order[k])], dtype=float)
                norm = float(np.linalg.norm(v))
                found = v / norm if norm else v
            units[artist_id] = found
        return units[artist_id]

    def similarity(a: int, b: int) -> float:
        u, v = unit(a), unit(b)
        return 0.0 if u is None or v is None else float(u @ v)

    return similarity
