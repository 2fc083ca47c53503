"""Commands on the model side: train, similar, scenes."""

from __future__ import annotations

import time

import click

from playlists.cli import echo_json, json_option, open_store
from recommender.catalog import resolve_artist
from recommender.evaluate import SPLITS, default_models, evaluate
from recommender.interactions import load_interactions
from recommender.training import load_model, train


@click.command("train")
@json_option
@click.pass_context
def train_command(ctx: click.Context, as_json: bool) -> None:
    """Train the hybrid model and the artist graph on everything the store may use."""
    store = open_store(ctx)
    started = time.perf_counter()
    model = train(store)
    seconds = time.perf_counter() - started
    summary = {
        "model_id": model.model_id,
        "listeners": len(model.listeners),
        "artists": len(model.artist_ids),
        "scenes": len(model.graph.scenes),
        "seconds": round(seconds, 2),
        "path": str(model.path),
    }
    if as_json:
        echo_json(summary)
        return
    click.echo(
        f"trained {model.model_id}: {summary['listeners']} listeners, "
        f"{summary['artists']} artists, {summary['scenes']} scenes in {seconds:.1f} s"
    )


@click.command("similar")
@click.argument("artist")
@click.option("--k", default=10, show_default=True, type=click.IntRange(1, 200), help="How many.")
@json_option
@click.pass_context
def similar_command(ctx: click.Context, artist: str, k: int, as_json: bool) -> None:
    """Artists whose audiences overlap with ARTIST's, with the reason for each."""
    store = open_store(ctx)
    artist_id, name = resolve_artist(store, artist)
    neighbours = load_model(store).graph.similar(artist_id, k=k)
    if as_json:
        echo_json(
            [
                {
                    "artist": n.name,
                    "artist_id": n.artist_id,
                    "score": n.score,
                    "shared_listeners": n.shared_listeners,
                    "tag_similarity": n.tag_similarity,
                    "shared_tags": n.shared_tags,
                    "reason": n.reason,
                }
                for n in neighbours
            ]
        )
        return
    if not neighbours:
        click.echo(f"{name}: no neighbours (too few listeners share it with other artists)")
        return
    width = max(len(n.name) for n in neighbours)
    for rank, n in enumerate(neighbours, start=1):
        click.echo(f"{rank:>3}. {n.name:<{width}}  {n.score:.3f}  {n.reason}")


@click.command("scenes")
@json_option
@click.pass_context
def scenes_command(ctx: click.Context, as_json: bool) -> None:
    """Scenes: communities of the co-listening graph, with defining tags and best-known artists."""
    graph = load_model(open_store(ctx)).graph
    rows = [
        {
            "id": scene.id,
            "name": scene.name,
            "tags": scene.tags,
            "size": scene.size,
            "listeners": scene.listeners,
            "top_artists": [graph.name(a) for a in scene.top_artists],
            "lookalike_scenes": [graph.scene(s).name for s in graph.lookalike_scenes(scene.id)],
        }
        for scene in graph.scenes
    ]
    if as_json:
        echo_json(rows)
        return
    for scene in graph.scenes:
        click.echo(f"[{scene.id}] {scene.name} ({scene.size} artists, {scene.listeners} listeners)")
        click.echo(f"     tags: {', '.join(scene.tags)}")
        click.echo(f"     best known: {', '.join(graph.name(a) for a in scene.top_artists)}")
        alike = [graph.scene(s).name for s in graph.lookalike_scenes(scene.id)]
        if alike:
            click.echo(f"     looks like, but a different audience: {', '.join(alike)}")


@click.command("evaluate")
@click.option(
    "--split",
    "splits",
    multiple=True,
    type=click.Choice(SPLITS),
    help="Only this split (repeatable; default: random and discovery).",
)
@click.option(
    "--model",
    "models",
    multiple=True,
    type=click.Choice(sorted(default_models())),
    help="Only this model (repeatable; default: all).",
)
@json_option
@click.pass_context
def evaluate_command(
    ctx: click.Context, splits: tuple[str, ...], models: tuple[str, ...], as_json: bool
) -> None:
    """Score tastemaker and its baselines side by side on held-out listening (seed 42)."""
    store = open_store(ctx)
    chosen = {k: v for k, v in default_models().items() if not models or k in models}
    results = evaluate(
        load_interactions(store),
        chosen,
        splits=splits or SPLITS,
        progress=lambda line: click.echo(line, err=True),
    )
    if as_json:
        echo_json(results)
        return
    columns = [
        "ndcg@10",
        "recall@10",
        "coverage@10",
        "novelty@10",
        "diversity@10",
        "ndcg@50",
        "recall@50",
        "cold_recall@50",
        "fit_seconds",
    ]
    for kind, by_model in results.items():
        click.echo(f"\n{kind} split ({int(next(iter(by_model.values()))['listeners'])} listeners)")
        click.echo(f"{'model':<14}" + "".join(f"{c:>15}" for c in columns))
        for name, values in by_model.items():
            click.echo(f"{name:<14}" + "".join(f"{values[c]:>15.4f}" for c in columns))


COMMANDS = [train_command, similar_command, scenes_command, evaluate_command]
