"""Small HetRec-format folders written by the tests (good and malformed)."""

from __future__ import annotations

from pathlib import Path

HEADERS = {
    "artists.dat": "id\tname\turl\tpictureURL",
    "tags.dat": "tagID\ttagValue",
    "user_artists.dat": "userID\tartistID\tweight",
    "user_taggedartists.dat": "userID\tartistID\ttagID\tday\tmonth\tyear",
}

GOOD = {
    "artists.dat": ["1\tQuiet Kites\tu\tp", "2\tRust Ravens\tu\tp", "3\tCold Harbor\tu\tp"],
    "tags.dat": ["1\tpunk", "2\tcafé folk", "3\tPunk"],
    "user_artists.dat": ["2\t1\t100", "2\t2\t50", "3\t1\t7"],
    "user_taggedartists.dat": [
        "2\t1\t1\t1\t4\t2009",
        "3\t1\t3\t1\t4\t2009",
        "2\t3\t2\t1\t4\t2009",
    ],
}


def write_folder(
    folder: Path,
    rows: dict[str, list[str]] | None = None,
    newline: str = "\n",
    headers: dict[str, str] | None = None,
) -> Path:
    """Write a HetRec folder: tags.dat in latin-1 like the real one, the rest in UTF-8."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = GOOD if rows is None else rows
    heads = {**HEADERS, **(headers or {})}
    for name, lines in rows.items():
        text = newline.join([heads[name], *lines]) + newline
        (folder / name).write_bytes(text.encode("latin-1" if name == "tags.dat" else "utf-8"))
    return folder
