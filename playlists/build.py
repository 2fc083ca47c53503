"""`build_playlist`: the one public call behind `tastemaker playlist`.

Steps: read the listener's terms (arguments override them for this run), load the model,
gather candidates of each kind (each with its reason), assemble the exact mix in a flowing
order, and store the playlist with its parameters, model id, terms and their effects, notes
and every track's reason, in one transaction.

Steering: `seed_artist` makes that artist's scene a home scene, puts the listener's own tracks
of it first, adds it to the evidence artists ("because of") and bridge starts, and opens the
walk with it. `tag` puts artists carrying the tag first within every kind; nothing else is
dropped, so the mix and the reasons still hold.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

import numpy as np

from playlists import candidates as cands
from playlists.assemble import (
    DEFAULT_ARTIST_CAP,
    DEFAULT_FAMILIAR_SHARE,
    Similarity,
    assemble,
    unexpected_count,
)
from playlists.model import Candidate, Playlist
from playlists.review import blocked_for
from playlists.storage import save_playlist
from recommender.catalog import (
    artist_ids_named,
    artists_tagged,
    resolve_artist,
    resolve_listener,
    resolve_tag,
)
from recommender.listens import newest_listen
from recommender.store import Store, utc_now
from recommender.terms import Terms
from recommender.terms_storage import load_terms


class ModelView(Protocol):
    """The parts of `recommender.training.TrainedModel` a playlist uses."""

    model_id: str
    artist_ids: np.ndarray
    listeners: list[str]
    graph: Any
    now: int | None

    @property
    def item_vectors(self) -> Any: ...

    def scores(self, listener: str) -> np.ndarray: ...


def load_default_model(store: Store) -> ModelView:
    """The newest usable model (raises ModelMissing / ModelStale: run `tastemaker train`)."""
    from recommender.training import load_model

    model: ModelView = load_model(store)
    return model


def build_playlist(
    store: Store,
    listener: str,
    length: int = 30,
    surprise: float | None = None,
    seed_artist: str | None = None,
    tag: str | None = None,
    *,
    model: ModelView | None = None,
    terms: Terms | None = None,
    no_repeat_days: int | None = None,
    artist_cap: int = DEFAULT_ARTIST_CAP,
    new_listener: bool = False,
    save: bool = True,
) -> Playlist:
    """Build (and store) a playlist for `listener`; see the module docstring."""
    listener_id = store.listener_id(listener)
    if listener_id is None and not new_listener:
        resolve_listener(
            store,
            listener,
            hint="import their history with `tastemaker import`, or pass --new-listener for a "
            "non-personalised playlist",
        )
    base = terms if terms is not None else load_terms(store, listener)
    effective = base.with_changes(surprise=surprise, no_repeat_days=no_repeat_days)
    overridden = [
        k
        for k, v in {"surprise": surprise, "no_repeat_days": no_repeat_days}.items()
        if v is not None
    ]
    if model is None:
        model = load_default_model(store)
    graph = model.graph
    names = dict(store.conn.execute("SELECT id, name FROM artists").fetchall())
    seed_id = resolve_artist(store, seed_artist)[0] if seed_artist else None
    steer_tag = resolve_tag(store, tag) if tag else None
    as_of = model.now if model.now is not None else newest_listen(store)
    ctx = cands.Context(
        store=store,
        graph=graph,
        names=names,
        as_of=as_of,
        half_life_days=effective.half_life_days,
        no_repeat_days=effective.no_repeat_days,
        artist_cap=artist_cap,
        excluded_artists=artist_ids_named(store, effective.exclude_artists),
        excluded_by_tag=artists_tagged(store, effective.exclude_tags),
        steer_tag_artists=None if steer_tag is None else artists_tagged(store, [steer_tag]),
        seed_artist=seed_id,
        blocks=blocked_for(store, listener),
    )
    notes: list[str] = []
    personalised = bool(effective.personalise and listener_id is not None)
    if not effective.personalise:
        notes.append(
            "Not personalised: you turned personalisation off, so none of your "
            "listening was read; picks come from the artist graph and popularity."
        )
    elif listener_id is None:
        notes.append(
            "Not personalised: no listening history yet; picks come from the artist "
            "graph and popularity."
        )
    if personalised and listener not in set(model.listeners):
        personalised = False
        notes.append(
            "Not personalised: the model was trained before your listening was "
            "imported; run `tastemaker train` for a personal playlist."
        )
    if personalised and listener_id is not None:
        ctx.history = cands.listener_history(
            store,
            listener_id,
            ignore_sources=effective.ignore_sources,
            half_life_days=effective.half_life_days,
            as_of=as_of,
        )
        if not ctx.history:
            personalised = False
            notes.append(
                "Not personalised: none of your listens can be used (no history, or "
                "every source is ignored by your terms)."
            )

    wanted = unexpected_count(length, effective.surprise)
    familiar: list[Candidate] = []
    if personalised:
        ctx.scores = np.asarray(model.scores(listener), dtype=float)
        ctx.artist_ids = np.asarray(model.artist_ids)
        home = cands.home_scenes(ctx)
        if seed_id is not None and graph.scene_of(seed_id) is not None:
            home.add(int(graph.scene_of(seed_id)))
        avoid = cands.lookalike_scenes(graph, home, names) - home
        familiar = cands.familiar_candidates(ctx, avoid)
        discovery = cands.discovery_candidates(ctx, home, avoid, limit=2 * length)
        unexpected, why = cands.unexpected_candidates(ctx, home, avoid, wanted)
    else:
        discovery, unexpected, why = cands.popular_candidates(ctx, wanted, limit=2 * length)

    entries = assemble(
        familiar,
        discovery,
        unexpected,
        length=length,
        surprise=effective.surprise,
        artist_cap=artist_cap,
        similarity=_similarity(model),
        start_artist=seed_id,
        unexpected_why=why,
    )
    effects = {
        "excluded_artists": ctx.effects["excluded_artists"],
        "excluded_tags": ctx.effects["excluded_tags"],
        "excluded_tracks": ctx.effects["excluded_tracks"],
        "lookalike_left_out": ctx.effects["lookalike_left_out"],
        "curator_rejected": ctx.effects["curator_rejected"],
        "curator_links": len(ctx.links_avoided),
    }
    notes.extend(_effect_notes(effects, effective))
    playlist = Playlist(
        id=f"pl-{uuid.uuid4().hex[:12]}",
        listener=listener,
        created_at=utc_now(),
        params={
            "length": length,
            "surprise": effective.surprise,
            "seed_artist": seed_artist,
            "tag": tag,
            "artist_cap": artist_cap,
            "familiar_share": DEFAULT_FAMILIAR_SHARE,
            "unexpected_top_fraction": cands.UNEXPECTED_TOP_FRACTION,
            "as_of": cands.reasons.iso(as_of),
        },
        model_id=model.model_id,
        personalised=personalised,
        terms={**effective.as_dict(), "overridden": overridden, "effects": effects, **effects},
        notes=tuple(notes),
        tracks=tuple(c.at(i) for i, c in enumerate(entries, start=1)),
    )
    if save:
        save_playlist(store, playlist)
    return playlist


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
    return notes


def _similarity(model: ModelView) -> Similarity:
    vectors = getattr(model, "item_vectors", None)
    if vectors is None:
        return lambda a, b: 0.0
    matrix = np.asarray(vectors, dtype=float)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit = matrix / np.where(norms == 0, 1.0, norms)
    row = {int(a): i for i, a in enumerate(model.artist_ids)}

    def similarity(a: int, b: int) -> float:
        i, j = row.get(a), row.get(b)
        if i is None or j is None:
            return 0.0
        return float(unit[i] @ unit[j])

    return similarity
