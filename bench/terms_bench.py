"""The listener's-terms operations on a full store: export-data, forget --all (with VACUUM), import.

Usage: .venv/bin/python bench/terms_bench.py [--data demo|hetrec] [--hetrec DIR] [--listener NAME]

Builds a fresh store in a temporary folder (the demo world by default, or HetRec 2011 Last.fm
2k), then times, for one listener: export-data, forget --all (delete, WAL truncate, VACUUM),
and importing the export back. Prints wall seconds, the store's size before and after, and
checks that the round trip gives back the same listens.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from shared_data import hetrec_dir

from playlists.privacy import export_listener, forget, write_export
from recommender.resources import demo_dir
from recommender.sources import import_path
from recommender.store import Store


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["demo", "hetrec"], default="demo")
    parser.add_argument("--hetrec", type=Path, default=hetrec_dir())
    parser.add_argument("--listener", default=None)
    args = parser.parse_args()
    source = demo_dir() if args.data == "demo" else args.hetrec
    listener = args.listener or ("listener-271" if args.data == "demo" else "2")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        with Store.open(db) as store:
            started = time.perf_counter()
            import_path(store, args.data, source)
            imported = time.perf_counter() - started
            rows = []

            started = time.perf_counter()
            first = write_export(store, listener, Path(tmp) / "export.json")
            rows.append(("export-data", time.perf_counter() - started))

            started = time.perf_counter()
            report = forget(store, listener, all_data=True)
            rows.append(("forget --all (incl. VACUUM)", time.perf_counter() - started))

            started = time.perf_counter()
            import_path(store, "tastemaker", Path(tmp) / "export.json")
            rows.append(("import tastemaker", time.perf_counter() - started))
            same = export_listener(store, listener)["listens"] == first["listens"]

    print(f"store: {args.data} ({imported:.1f} s to import); listener {listener}")
    print(f"listens of the listener: {len(first['listens']):,}")
    for name, seconds in rows:
        print(f"  {name:<30} {seconds:7.2f} s")
    print(f"  store size: {report.bytes_before:,} -> {report.bytes_after:,} bytes after forget")
    print(f"  round trip gives the same listens: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
