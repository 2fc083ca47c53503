"""Only `playlists/storage.py` reads and writes the playlist tables (issue 11: one owner).

Every string literal in the project's modules (tests excepted) is read as SQL: a statement
that selects from, joins, inserts into, updates or deletes from `playlists`,
`playlist_tracks` or `verdicts` fails the test outside the owner, and so does naming one of
them as a sqlite-utils table (`db["verdicts"]`, `db.table("playlists")`) or as the table of
`Store.insert` (`store.insert("playlists", ...)`). The schema is not
reading or writing: DDL statements (CREATE/ALTER/DROP) and the store's migration history
(a module-level `MIGRATIONS` list, which stores already ran and which therefore never
changes) are allowed wherever the schema lives, and the playlist side's own schema module
(`SCHEMA_MODULES`) defines and migrates these tables, so it is left out as a whole.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OWNER = "playlists/storage.py"
# Where the playlist tables' definitions and migrations move from recommender/store.py.
SCHEMA_MODULES = ("playlists/schema.py",)
PACKAGES = ("recommender", "playlists", "bench")
TABLES = ("playlists", "playlist_tracks", "verdicts")

_NAMES = "|".join(TABLES)
# SQL keywords are upper case in this project, which keeps prose ("made from playlists") out.
DML = re.compile(rf"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(?:{_NAMES})\b")
DDL = re.compile(r"^\s*(?:--[^\n]*\n\s*)*(?:CREATE|ALTER|DROP)\b")


def _text(node: ast.AST) -> str | None:
    """A string literal's text (an f-string's replacement fields read as `?`), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            str(part.value) if isinstance(part, ast.Constant) else "?" for part in node.values
        )
    return None


def _migrations(tree: ast.Module) -> set[int]:
    """Ids of the string nodes inside module-level `...MIGRATIONS = [...]` assignments."""
    inside: set[int] = set()
    for stmt in tree.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else []
        if isinstance(stmt, ast.AnnAssign):
            targets = [stmt.target]
        if any(isinstance(t, ast.Name) and t.id.endswith("MIGRATIONS") for t in targets):
            inside.update(id(n) for n in ast.walk(stmt))
    return inside


def _sqlite_utils_tables(tree: ast.Module) -> list[str]:
    """Playlist tables named through sqlite-utils (`X.db["t"]`, `db["t"]`, `X.table("t")`) or
    `Store.insert` (`X.insert("t", rows)`)."""
    named: list[str] = []
    for node in ast.walk(tree):
        key: ast.expr | None = None
        if isinstance(node, ast.Subscript):
            value = node.value
            if (isinstance(value, ast.Attribute) and value.attr == "db") or (
                isinstance(value, ast.Name) and value.id == "db"
            ):
                key = node.slice
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("table", "insert")
            and node.args
        ):
            key = node.args[0]
        if isinstance(key, ast.Constant) and key.value in TABLES:
            named.append(str(key.value))
    return named


def violations(source: str) -> list[str]:
    """What `source` does to the playlist tables that only their owner may do."""
    tree = ast.parse(source)
    history = _migrations(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        text = None if id(node) in history else _text(node)
        for statement in (text or "").split(";"):
            if DML.search(statement) and not DDL.match(statement):
                found.append(" ".join(statement.split())[:120])
    found.extend(f"sqlite-utils table {name!r}" for name in _sqlite_utils_tables(tree))
    return found


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_only_storage_reads_and_writes_the_playlist_tables() -> None:
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in _modules()
        if path.relative_to(ROOT).as_posix() not in (OWNER, *SCHEMA_MODULES)
        and (found := violations(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_owner_is_where_the_sql_is() -> None:
    # The check must see the owner's own statements, or it would pass by seeing nothing.
    found = violations((ROOT / OWNER).read_text(encoding="utf-8"))
    assert any("INSERT" not in f and "FROM playlist_tracks" in f for f in found)
    assert any(f.startswith("DELETE FROM verdicts") for f in found)
    assert "sqlite-utils table 'verdicts'" in found


@pytest.mark.parametrize(
    "source",
    [
        'conn.execute("SELECT id FROM playlists WHERE id = ?", (pid,))',
        'q = f"SELECT {cols} FROM verdicts WHERE playlist_id = ?"',
        'sql = ("SELECT a.name FROM artists a"\n       " JOIN playlist_tracks pt ON 1")',
        'conn.execute("DELETE FROM verdicts WHERE 1")',
        'conn.execute("UPDATE playlists SET notes = ?", x)',
        'store.db["playlist_tracks"].insert_all(rows)',
        'store.db.table("verdicts").rows_where("1")',
        'store.insert("playlist_tracks", rows)',
        'EXTRA = "CREATE TABLE x (a INT); UPDATE verdicts SET subject = 1"',
    ],
)
def test_each_way_of_touching_a_table_is_caught(source: str) -> None:
    assert violations(source)


@pytest.mark.parametrize(
    "source",
    [
        '"""Make playlists from the graph; verdicts change later playlists."""',
        'data["playlists"] = export(store)',
        'conn.execute("SELECT id FROM listens WHERE artist_id = ?", (a,))',
        'SCHEMA = "CREATE TABLE verdicts (playlist_id TEXT REFERENCES playlists(id))"',
        'MIGRATIONS = ["ALTER TABLE verdicts ADD x; UPDATE verdicts SET subject = 1"]',
    ],
)
def test_prose_json_keys_other_tables_and_the_schema_pass(source: str) -> None:
    assert violations(source) == []
