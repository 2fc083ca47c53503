"""Commands on the model side: train, evaluate, similar, scenes."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from playlists.cli import echo, echo_json, engine_option, json_option, master_option, open_store
from recommender.audit import audit, audit_text, evaluate_with_groups, write_audit_html
from recommender.catalog import resolve_artist
from recommender.evaluate import DEFAULT_MODELS, SEEDS, SPLITS, evaluate
from recommender.models import model_names
from recommender.training import DEFAULT_MODEL, MEMORY_BUDGET_ENV, load_model, train

MODEL_CHOICE = click.Choice(model_names())


def progress_printer(as_json: bool) -> Callable[[str], None] | None:
    """Progress lines for stderr: none with --json or when stderr is not a terminal."""
    if as_json or not sys.stderr.isatty():
        return None
    return lambda line: echo(line, err=True)


# Options `evaluate` and `audit` share.
models_option = click.option(
    "--model",
    "model_names_",
    type=MODEL_CHOICE,
    multiple=True,
    help=f"Only this model (repeat for more; default: {', '.join(DEFAULT_MODELS)}).",
)
seeds_option = click.option(
    "--seeds",
    type=click.IntRange(1, 20),
    default=SEEDS,
    show_default=True,
    help="Fits of each model whose training is random (LightFM): mean and spread reported.",
)


@click.command("train")
@click.option(
    "--model",
    "model_name",
    type=MODEL_CHOICE,
    default=DEFAULT_MODEL,
    show_default=True,
    help="Which model to train (playlists are made with `tastemaker`).",
)
@click.option(
    "--deterministic",
    is_flag=True,
    help="Fit on one thread: the same store gives the same bundle (LightFM's fit about 1.7x "
    "slower).",
)
@click.option(
    "--memory-budget",
    type=click.FloatRange(min=0.1),
    default=None,
    metavar="GB",
    help=f"Refuse up front a store whose train needs more (default: ${MEMORY_BUDGET_ENV}, "
    "else three quarters of this machine's memory).",
)
@engine_option
@master_option
@click.option(
    "--listens",
    "listens_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    metavar="DIR",
    help="With --engine spark: read this `export-listens --parquet` folder instead of "
    "exporting the store first.",
)
@json_option
@click.pass_context
def train_command(
    ctx: click.Context,
    model_name: str,
    deterministic: bool,
    memory_budget: float | None,
    engine: str,
    master: str | None,
    listens_dir: Path | None,
    as_json: bool,
) -> None:
    """Train the model (the tastemaker blend unless --model says otherwise) and the artist
    graph on everything the store may use; prints what each stage cost.

    Progress (per stage and per epoch) goes to stderr when it is a terminal. With --engine
    spark the aggregation stages run on Spark (pip install 'tastemaker[spark]', Java 17+);
    the bundle is the same.
    """
    store = open_store(ctx)
    started = time.perf_counter()
    budget = None if memory_budget is None else int(memory_budget * 1e9)
    progress = progress_printer(as_json)
    if engine == "spark":
        from recommender.spark.train import train_on_spark

        model = train_on_spark(
            store,
            master=master,
            listens=listens_dir,
            model=model_name,
            deterministic=deterministic,
            progress=progress,
            memory_budget=budget,
        )
    else:
        model = train(
            store,
            model=model_name,
            deterministic=deterministic,
            progress=progress,
            memory_budget=budget,
        )
    seconds = time.perf_counter() - started
    summary = {
        "model_id": model.model_id,
        "listeners": len(model.listeners),
        "artists": len(model.artist_ids),
        "scenes": len(model.graph.scenes),
        "seconds": round(seconds, 2),
        "path": str(model.path),
        "model": model.model_name,
        "notes": list(model.notes),
        "stages": model.stages,
    }
    if as_json:
        echo_json(summary)
        return
    echo(
        f"trained {model.model_id}: {summary['listeners']} listeners, "
        f"{summary['artists']} artists, {summary['scenes']} scenes in {seconds:.1f} s"
    )
    # The model and the graph are built side by side, so their times overlap.
    echo("stages: " + ", ".join(f"{name} {s:.1f} s" for name, s in model.stages.items()))
    for note in model.notes:
        echo(f"note: {note}")


@click.command("evaluate")
@models_option
@seeds_option
@click.option(
    "--groups",
    is_flag=True,
    help="Also audit listener groups and artists on both splits, from the same fits "
    "(see `tastemaker audit`).",
)
@json_option
@click.pass_context
def evaluate_command(
    ctx: click.Context, model_names_: tuple[str, ...], seeds: int, groups: bool, as_json: bool
) -> None:
    """Score the tastemaker model and its baselines side by side on held-out listening.

    Two splits (random, and each listener's least-played artists), seed 42; metrics at 10 and
    50, each the mean over --seeds fits with its standard deviation (`<metric>_sd` in JSON).
    Fits every model from scratch on the store's data and writes nothing. Progress goes to
    stderr when it is a terminal.
    """
    store = open_store(ctx)
    run = evaluate_with_groups if groups else evaluate
    report: dict[str, Any] = dict(
        run(store, models=model_names_ or None, progress=progress_printer(as_json), seeds=seeds)
    )
    if as_json:
        echo_json(report)
        return
    audits = report.pop("groups", {})
    metrics = ["recall@10", "precision@10", "coverage@10", "novelty@10", "diversity@10"]
    metrics += ["cold_recall@10", "ndcg@50", "recall@50", "fit_seconds"]
    for split_name, models in report.items():
        echo(f"split: {split_name} (mean over seeds; ndcg@10 +- its standard deviation)")
        echo(f"  {'model':<13}{'ndcg@10 +- sd':>18}" + "".join(f"{m:>15}" for m in metrics))
        for name, values in models.items():
            spread = f"{values['ndcg@10']:.4f} +- {values['ndcg@10_sd']:.4f}"
            cells = "".join(
                f"{'-':>15}" if values.get(m) is None else f"{values[m]:>15.4f}" for m in metrics
            )
            echo(f"  {name:<13}{spread:>18}{cells}")
    for audited in audits.values():
        for line in audit_text(audited):
            echo(line)


@click.command("audit")
@models_option
@click.option(
    "--split",
    "split_name",
    type=click.Choice(SPLITS),
    default="random",
    show_default=True,
    help="Which evaluation split to audit.",
)
@seeds_option
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the audit as a self-contained HTML page to FILE.",
)
@json_option
@click.pass_context
def audit_command(
    ctx: click.Context,
    model_names_: tuple[str, ...],
    split_name: str,
    seeds: int,
    html_file: Path | None,
    as_json: bool,
) -> None:
    """Who is served worse: accuracy, popularity lift and calibration per listener group.

    Listeners are grouped by mainstreaminess (thirds), activity (thirds by artists) and as
    new listeners; artists by head and long tail. Every figure is the mean over --seeds fits
    (`<metric>_sd` in JSON). Lists the features the model uses. Writes nothing to the store.
    """
    store = open_store(ctx)
    report = audit(
        store,
        models=model_names_ or None,
        split=split_name,
        progress=progress_printer(as_json),
        seeds=seeds,
    )
    if html_file is not None:
        written = write_audit_html(report, html_file)
        if not as_json:
            echo(f"audit page written to {written.describe()}")
    if as_json:
        echo_json(report)
        return
    for line in audit_text(report):
        echo(line)


@click.command("similar")
@click.argument("artist")
@click.option("--k", default=10, show_default=True, type=click.IntRange(1, 200), help="How many.")
@json_option
@click.pass_context
def similar_command(ctx: click.Context, artist: str, k: int, as_json: bool) -> None:
    """Artists whose audiences overlap with ARTIST's, with the reason for each."""
    store = open_store(ctx)
    artist_id, name = resolve_artist(store, artist)
    neighbours = load_model(store).similar(artist_id, n=k)
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
        echo(f"{name}: no neighbours (too few listeners share it with other artists)")
        return
    width = max(len(n.name) for n in neighbours)
    for rank, n in enumerate(neighbours, start=1):
        echo(f"{rank:>3}. {n.name:<{width}}  {n.score:.3f}  {n.reason}")


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
        echo(f"[{scene.id}] {scene.name} ({scene.size} artists, {scene.listeners} listeners)")
        echo(f"     tags: {', '.join(scene.tags)}")
        echo(f"     best known: {', '.join(graph.name(a) for a in scene.top_artists)}")
        alike = [graph.scene(s).name for s in graph.lookalike_scenes(scene.id)]
        if alike:
            echo(f"     looks like, but a different audience: {', '.join(alike)}")


COMMANDS = [train_command, evaluate_command, audit_command, similar_command, scenes_command]
