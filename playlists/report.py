"""The curator's page: one self-contained HTML file for one stored playlist.

Inline CSS only (no script, no network, no external asset), a print stylesheet, and every
piece of text from the store passed through `html.escape`. Numbers are printed exactly as
stored, each inside `<data value=...>` with a `data-key` naming its evidence field, so a
reader (or a test) can check every figure against the store.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from typing import Any

from playlists.model import Playlist, PlaylistTrack
from playlists.quality import Quality, playlist_quality
from playlists.storage import Verdict, load_playlist, verdicts_for
from recommender.store import Store


def render_report(store: Store, playlist_id: str) -> str:
    """The whole HTML page for the stored playlist `playlist_id`."""
    playlist = load_playlist(store, playlist_id)
    quality = playlist_quality(store, playlist_id)
    verdicts = verdicts_for(store, playlist_id)
    names = dict(store.conn.execute("SELECT id, name FROM artists").fetchall())
    return page(playlist, quality, verdicts, names)


# Rendering ---------------------------------------------------------------------------------


def e(value: object) -> str:
    """Text from the store, escaped for HTML content and attributes."""
    return escape("" if value is None else str(value), quote=True)


def num(key: str, value: object, shown: str | None = None) -> str:
    """A number as stored, marked with the evidence field it comes from."""
    if value is None:
        return f'<span class="none" data-key="{e(key)}">none</span>'
    text = shown if shown is not None else str(value)
    return f'<data class="num" data-key="{e(key)}" value="{e(value)}">{e(text)}</data>'


def when(key: str, value: str | None) -> str:
    if value is None:
        return f'<span class="none" data-key="{e(key)}">no date</span>'
    shown = value.replace("T", " ").replace("+00:00", " UTC")
    return f'<time data-key="{e(key)}" datetime="{e(value)}">{e(shown)}</time>'


def page(
    playlist: Playlist, quality: Quality, verdicts: list[Verdict], names: dict[int, str]
) -> str:
    by_position: dict[int | None, list[Verdict]] = {}
    for v in verdicts:
        by_position.setdefault(v.position, []).append(v)
    rows = "\n".join(
        track_row(entry, by_position.get(entry.position, []), names) for entry in playlist.tracks
    )
    title = f"Playlist {playlist.id} for {playlist.listener}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{e(title)}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>Playlist <code>{e(playlist.id)}</code></h1>
{header(playlist)}
</header>
{quality_section(quality)}
<section id="playlist-verdicts">
<h2>Verdicts on the whole playlist</h2>
{verdict_list(by_position.get(None, []), names)}
</section>
<section id="tracks">
<h2>Tracks and their reasons</h2>
<table class="tracks">
<thead><tr><th>#</th><th>Track</th><th>Kind</th><th>Reason and evidence</th>
<th>Verdicts</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</section>
<footer>Every figure is printed as stored; <code>tastemaker review {e(playlist.id)}
--track N --verdict approve|reject|flag</code> records a verdict.</footer>
</body>
</html>
"""


def header(playlist: Playlist) -> str:
    # The parameters as stored, where `personalised` is one of them.
    stored_params = {**playlist.params, "personalised": playlist.personalised}
    params = "".join(
        f"<li><span class=label>{e(k)}</span> {param_value(k, v)}</li>"
        for k, v in stored_params.items()
    )
    terms = "".join(
        f"<li><span class=label>{e(k)}</span> {param_value(k, v)}</li>"
        for k, v in playlist.terms.items()
        if not isinstance(v, dict)
    )
    notes = "".join(f"<li>{e(n)}</li>" for n in playlist.notes) or "<li>none</li>"
    return f"""<dl class="facts">
<dt>Listener</dt><dd id="listener">{e(playlist.listener)}</dd>
<dt>Created</dt><dd>{when("created_at", playlist.created_at)}</dd>
<dt>Model version</dt><dd id="model"><code>{e(playlist.model_id or "none")}</code></dd>
<dt>Parameters</dt><dd><ul class="inline" id="params">{params}</ul></dd>
<dt>Terms</dt><dd><ul class="inline" id="terms">{terms or "<li>defaults</li>"}</ul></dd>
<dt>Notes</dt><dd><ul id="notes">{notes}</ul></dd>
</dl>"""


def param_value(key: str, value: Any) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return f"<code>{e(json.dumps(value))}</code>"
    if isinstance(value, int | float):
        return num(key, value)
    return f"<code>{e(json.dumps(value, ensure_ascii=False))}</code>"


def _fixed(value: float | None, digits: int = 3) -> str | None:
    return None if value is None else f"{value:.{digits}f}"


def quality_section(q: Quality) -> str:
    share = num("unexpected_share", round(q.unexpected_share, 4), f"{q.unexpected_share:.0%}")
    requested = (
        "not recorded"
        if q.unexpected_requested is None
        else f"{num('unexpected_requested', q.unexpected_requested)} "
        f"(surprise {num('surprise_requested', q.surprise_requested)})"
    )
    met = q.unexpected_requested is None or q.unexpected_requested == q.unexpected_delivered
    status = "met" if met else "NOT met"
    diversity = num("diversity", _round(q.diversity), _fixed(q.diversity))
    novelty = num("novelty_bits", _round(q.novelty_bits), _fixed(q.novelty_bits, 2))
    calibration = num("calibration_kl", _round(q.calibration_kl), _fixed(q.calibration_kl))
    return f"""<section id="quality" class="quality" aria-label="Quality label">
<h2>Quality label</h2>
<table class="label">
<tr><th>Unexpected share</th><td>requested {requested}; delivered
{num("unexpected_delivered", q.unexpected_delivered)} of {num("entries", q.entries)}
= {share} <strong class="{"ok" if met else "bad"}">{status}</strong></td></tr>
<tr><th>Intra-list diversity</th><td>{diversity} <span class=hint>mean tag distance over
{num("diversity_pairs", q.diversity_pairs)} pairs; 0 alike, 1 nothing shared</span></td></tr>
<tr><th>Novelty</th><td>{novelty} bits <span class=hint>mean -log2(listeners of the artist /
{num("store_listeners", q.store_listeners)} listeners)</span></td></tr>
<tr><th>Popularity spread</th><td>listeners per artist: min
{num("popularity_min", q.popularity_min)}, median {num("popularity_median", q.popularity_median)},
max {num("popularity_max", q.popularity_max)}</td></tr>
<tr><th>Calibration</th><td>{calibration} <span class=hint>KL divergence (nats) of the playlist's
tag mix from the listener's last {num("recent_days", q.recent_days)} days, smoothed with
alpha {num("alpha", q.alpha)}; 0 = mirrors recent listening</span></td></tr>
</table>
</section>"""


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def track_row(entry: PlaylistTrack, verdicts: list[Verdict], names: dict[int, str]) -> str:
    reason = entry.reason
    title = f' &mdash; <span class="title">{e(entry.title)}</span>' if entry.title else ""
    return f"""<tr class="track kind-{e(entry.kind)}" data-position="{entry.position}"
 data-artist-id="{entry.artist_id}" data-track-id="{e(entry.track_id)}">
<td class="pos">{entry.position}</td>
<td class="what"><span class="artist">{e(entry.artist)}</span>{title}</td>
<td><span class="kind badge-{e(entry.kind)}">{e(entry.kind)}</span></td>
<td class="why"><p class="reason">{e(reason.text)}</p>
{evidence_block(entry.kind, reason.evidence)}</td>
<td class="verdicts">{verdict_list(verdicts, names)}</td>
</tr>"""


def evidence_block(kind: str, ev: Mapping[str, Any]) -> str:
    """The numbers behind the reason, laid out per kind."""
    parts: list[str] = []
    if "plays" in ev:
        parts.append(f"<li>plays of the artist {num('plays', ev['plays'])}</li>")
        parts.append(
            f"<li>first played {when('first_played_at', ev.get('first_played_at'))}, "
            f"last played {when('last_played_at', ev.get('last_played_at'))}</li>"
        )
        if ev.get("track_plays") is not None:
            parts.append(
                f"<li>plays of this track {num('track_plays', ev['track_plays'])}, last "
                f"{when('track_last_played_at', ev.get('track_last_played_at'))}</li>"
            )
        if "recency_weight" in ev:
            parts.append(
                f"<li>recency weight {num('recency_weight', ev['recency_weight'])} "
                f"(half-life {num('half_life_days', ev.get('half_life_days'))} days, as of "
                f"{when('as_of', ev.get('as_of'))})</li>"
            )
    if ev.get("because_of"):
        items = "".join(
            f'<li data-link-from="{e(b.get("artist_id"))}"><span class="artist">'
            f"{e(b.get('artist'))}</span> "
            f"{num('shared_listeners', b.get('shared_listeners'))} shared listeners</li>"
            for b in ev["because_of"]
        )
        parts.append(f'<li>heard with:<ul class="because">{items}</ul></li>')
    if "listeners" in ev:
        parts.append(f"<li>listeners of the artist {num('listeners', ev['listeners'])}</li>")
    for key, label in (("scene", "scene"), ("home_scene", "from"), ("target_scene", "into")):
        if isinstance(ev.get(key), dict):
            parts.append(f"<li>{label} {scene(ev[key])}</li>")
    if ev.get("bridge"):
        parts.append(f"<li>bridge {bridge_chain(ev['bridge'], ev.get('bridge_shared_listeners'))}")
    if "model_score" in ev or "model_rank" in ev:
        parts.append(
            f"<li>model score {num('model_score', ev.get('model_score'))}, rank "
            f"{num('model_rank', ev.get('model_rank'))}</li>"
        )
    return f'<ul class="evidence">{"".join(parts)}</ul>'


def scene(ref: Mapping[str, Any]) -> str:
    name = ref.get("name") or f"scene {ref.get('id')}"
    return f'<span class="scene" data-scene-id="{e(ref.get("id"))}">{e(name)}</span>'


def bridge_chain(steps: list[dict[str, Any]], shared: list[int] | None) -> str:
    """The bridge as a chain: artist, (n shared) link, artist, ..."""
    shared = list(shared or [])
    out = []
    for i, step in enumerate(steps):
        out.append(
            f'<li class="node" data-artist-id="{e(step.get("artist_id"))}">'
            f"{e(step.get('artist'))}</li>"
        )
        if i < len(steps) - 1:
            count = shared[i] if i < len(shared) else None
            out.append(f'<li class="link">{num("bridge_shared_listeners", count)} shared</li>')
    return f'<ol class="chain">{"".join(out)}</ol>'


def verdict_list(verdicts: list[Verdict], names: dict[int, str]) -> str:
    if not verdicts:
        return '<p class="none">no verdict yet</p>'
    items = []
    for v in verdicts:
        about = e(v.subject)
        if v.link_from is not None:
            about += (
                f": {e(names.get(v.link_from, v.link_from))} &rarr; "
                f"{e(names.get(v.link_to or -1, v.link_to))}"
            )
        note = f' <q class="note">{e(v.note)}</q>' if v.note else ""
        items.append(
            f'<li class="verdict v-{e(v.verdict)}"><strong>{e(v.verdict)}</strong> '
            f"<span class=about>{about}</span>"
            f"{note} <span class=who>{e(v.curator or 'unnamed curator')}, "
            f"{when('verdict_at', v.created_at)}</span></li>"
        )
    return f'<ul class="verdict-list">{"".join(items)}</ul>'


CSS = """
:root { --ink: #1d1f23; --muted: #5b6270; --line: #d9dde3; --bg: #fbfbfc;
  --familiar: #2f6f4f; --discovery: #2a5aa8; --unexpected: #a0461a; --popular: #6b4fa0; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 1.5rem 2rem; color: var(--ink);
  background: var(--bg); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; border-bottom: 1px solid var(--line); }
code { font: .9em ui-monospace, "DejaVu Sans Mono", monospace; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dt { font-weight: 600; color: var(--muted); }
dd { margin: 0; }
ul.inline { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap;
  gap: .2rem 1rem; }
.label { color: var(--muted); margin-right: .25rem; }
#notes { margin: 0; padding-left: 1.2rem; }
table { border-collapse: collapse; width: 100%; }
table.label th { text-align: left; width: 12rem; padding: .3rem .6rem .3rem 0;
  vertical-align: top; }
table.label td { padding: .3rem 0; }
section.quality { background: #fff; border: 1px solid var(--line); border-radius: 6px;
  padding: .2rem 1rem .8rem; margin-top: 1rem; }
.hint { color: var(--muted); font-size: .85em; }
.ok { color: var(--familiar); } .bad { color: #b00020; }
table.tracks th { text-align: left; font-size: .85em; color: var(--muted);
  border-bottom: 2px solid var(--line); padding: .3rem .5rem; }
table.tracks td { border-bottom: 1px solid var(--line); padding: .5rem; vertical-align: top; }
td.pos { width: 2.5rem; text-align: right; color: var(--muted); }
td.what { width: 22%; } td.verdicts { width: 18%; font-size: .9em; }
.artist { font-weight: 600; } .title { font-style: italic; }
.kind { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; color: #fff;
  font-size: .8em; }
.badge-familiar { background: var(--familiar); } .badge-discovery { background: var(--discovery); }
.badge-unexpected { background: var(--unexpected); } .badge-popular { background: var(--popular); }
tr.kind-unexpected { background: #fff7f2; }
p.reason { margin: 0 0 .3rem; }
ul.evidence { margin: 0; padding-left: 1.1rem; font-size: .88em; color: var(--muted); }
ul.evidence data, ul.evidence time { color: var(--ink); font-weight: 600; }
ul.because { padding-left: 1rem; }
ol.chain { list-style: none; display: inline-flex; flex-wrap: wrap; align-items: center;
  padding: 0; margin: .2rem 0; gap: .25rem; }
ol.chain .node { border: 1px solid var(--unexpected); border-radius: 4px; padding: 0 .35rem;
  color: var(--ink); background: #fff; }
ol.chain .link::before { content: "\\2014 "; } ol.chain .link::after { content: " \\2192"; }
ol.chain .link { font-size: .85em; }
.none { color: var(--muted); font-style: italic; }
ul.verdict-list { list-style: none; margin: 0; padding: 0; }
.v-approve strong { color: var(--familiar); } .v-reject strong { color: #b00020; }
.v-flag strong { color: #b26b00; }
footer { margin-top: 1.5rem; color: var(--muted); font-size: .85em; }
@media print {
  @page { margin: 1.5cm; }
  body { background: #fff; max-width: none; padding: 0; font-size: 10pt; }
  section.quality { border-color: #999; break-inside: avoid; }
  tr.track { break-inside: avoid; }
  tr.kind-unexpected { background: none; }
  .kind { color: #000; border: 1px solid #000; background: none !important; }
  thead { display: table-header-group; }
  footer { display: none; }
}
"""
