"""What every personal-history reader promises: checked once, against each of them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import unicodedata
import zipfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recommender.errors import IngestError
from recommender.names import name_key
from recommender.sources import TEXT_READERS, import_path
from recommender.store import Store
from tests.export_files import write_listenbrainz_jsonl

FORMATS = sorted(TEXT_READERS)
REPO = Path(__file__).resolve().parents[1]

# -- the matching key ----------------------------------------------------------------------

names = st.text(st.characters(categories=["L", "M", "N", "Zs", "P", "S"]), min_size=1, max_size=30)
plain_names = st.text(
    st.characters(categories=["L", "N"]) | st.just(" "), min_size=1, max_size=30
).filter(lambda text: text.strip() and not text.strip().casefold().startswith("the"))


@given(names)
def test_name_key_is_the_same_under_nfc_and_nfd(name: str) -> None:
    assert name_key(unicodedata.normalize("NFC", name)) == name_key(
        unicodedata.normalize("NFD", name)
    )


@given(plain_names)
def test_leading_the_matches_trailing_the(name: str) -> None:
    assert name_key(f"The {name}") == name_key(f"{name}, The") == name_key(name)


@given(names.filter(lambda text: "the" not in text.casefold()))
def test_name_key_is_idempotent_for_names_without_an_article(name: str) -> None:
    key = name_key(name)
    assert name_key(key) == key


@given(names)
def test_name_key_ignores_case(name: str) -> None:
    assert name_key(name.upper()) == name_key(name.lower()) or not name.isascii()


# -- fuzzing: only the project's own import error may escape ----------------------------------

FIELDS = [
    "listened_at", "track_metadata", "artist_name", "track_name", "release_name",
    "additional_info", "duration_ms", "duration", "mbid_mapping", "artist_mbids",
    "recording_mbid", "user_name", "username", "score", "ts", "ms_played",
    "master_metadata_track_name", "master_metadata_album_artist_name",
    "master_metadata_album_album_name", "incognito_mode", "episode_name", "skipped",
    "endTime", "artistName", "trackName", "msPlayed", "podcastName",
]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["2021-03-04T12:34:56Z", "2021-03-04 12:34", "1612101900", ""])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), inner, max_size=6)
    ),
    max_leaves=20,
)
listen_like = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=8)


def _jsonish(rows: list[object], as_array: bool) -> bytes:
    if as_array:
        return json.dumps(rows, allow_nan=True).encode()
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


csv_cells = st.sampled_from(
    ["uts", "utc_time", "artist", "album", "track", "date", "31 Jan 2021 14:05", "1612101900"]
) | st.text(max_size=8)
csv_text = st.lists(
    st.lists(csv_cells, max_size=9).map(lambda cells: ",".join(cells)), max_size=6
).map(lambda lines: "\n".join(lines).encode())
log_text = st.lists(
    st.lists(st.sampled_from(["A", "B", "L", "S", "1612101900", "", "x"]), max_size=9).map(
        "\t".join
    ),
    max_size=6,
).map(lambda lines: ("#AUDIOSCROBBLER/1.1\n#TZ/UNKNOWN\n" + "\n".join(lines)).encode())
file_bytes = (
    st.binary(max_size=300)
    | st.builds(_jsonish, st.lists(listen_like | json_values, max_size=5), st.booleans())
    | csv_text
    | log_text
    | st.builds(
        lambda head, tail: head + tail,
        st.sampled_from([b"[", b"{", b"\xef\xbb\xbf"]),
        st.binary(max_size=50),
    )
)
member_names = st.sampled_from(
    [
        "user.json",
        "feedback.jsonl",
        "listens/2021/1.jsonl",
        "Spotify Extended Streaming History/Streaming_History_Audio_2021_0.json",
        "MyData/StreamingHistory_music_0.json",
        "notes.txt",
    ]
) | st.text(max_size=10)


def _zip(files: dict[str, bytes]) -> bytes:
    import io

    # Zip cuts names at NUL, so NUL is dropped; two names that become one are one member
    # (a duplicate name is a different, warned-about archive, not the case under test).
    members: dict[str, bytes] = {}
    for name, content in files.items():
        members.setdefault(name.replace("\x00", "") or "x", content)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


zip_bytes = st.dictionaries(member_names, file_bytes, max_size=4).map(_zip)
damaged_zip = st.builds(
    lambda data, cut, noise: data[:cut] + noise + data[cut + len(noise):],
    zip_bytes, st.integers(0, 400), st.binary(min_size=1, max_size=8),
)  # fmt: skip


def _import_expecting_only_ingest_errors(tmp: Path, fmt: str, data: bytes, name: str) -> None:
    path = tmp / name
    path.write_bytes(data)
    with Store.open(":memory:") as store:
        try:
            report = import_path(store, fmt, path, listener="fuzz")
        except IngestError:
            assert store.counts()["listens"] == 0 and store.counts()["imports"] == 0
        else:
            assert report.imported + report.duplicates <= store.counts()["listens"] + (
                report.duplicates
            )


# A quick pass in `make test`; TASTEMAKER_FUZZ_EXAMPLES=2000 for a deep run.
FUZZ = settings(
    max_examples=int(os.environ.get("TASTEMAKER_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(
    data=file_bytes, name=st.sampled_from(["listens.jsonl", "x.json", "s.csv", ".scrobbler.log"])
)
def test_fuzzed_files_raise_only_ingest_errors(
    tmp_path_factory: pytest.TempPathFactory, fmt: str, data: bytes, name: str
) -> None:
    _import_expecting_only_ingest_errors(tmp_path_factory.mktemp("fuzz"), fmt, data, name)


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(data=zip_bytes | damaged_zip)
def test_fuzzed_zips_raise_only_ingest_errors(
    tmp_path_factory: pytest.TempPathFactory, fmt: str, data: bytes
) -> None:
    _import_expecting_only_ingest_errors(tmp_path_factory.mktemp("fuzz"), fmt, data, "e.zip")


# -- UTC whatever the machine's time zone -----------------------------------------------------

TZ_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from recommender.sources import import_path
    from recommender.store import Store

    folder = Path(sys.argv[1])
    out = {"utc_offset": time.timezone}
    with Store.open(":memory:") as store:
        for fmt, name in [("listenbrainz", "lb.jsonl"), ("spotify", "sp.json"),
                          ("spotify", "account.json"), ("lastfm", "headerless.csv"),
                          ("lastfm", "headered.csv"), ("lastfm", "log.txt")]:
            report = import_path(store, fmt, folder / name, listener=name)
            assert report.rejected == 0, report.rejects
        rows = store.conn.execute(
            "SELECT l.name, s.listened_at FROM listens s JOIN listeners l"
            " ON l.id = s.listener_id ORDER BY 1, 2"
        )
        out["instants"] = [list(row) for row in rows]
    print(json.dumps(out))
    """
)

TZ_FILES = {
    "lb.jsonl": json.dumps(
        {"listened_at": 1625140800, "track_metadata": {"artist_name": "A", "track_name": "T"}}
    ),
    "sp.json": json.dumps(
        [{"ts": "2021-07-01T12:00:00Z", "ms_played": 60000, "master_metadata_track_name": "T",
          "master_metadata_album_artist_name": "A", "incognito_mode": False}]
    ),
    "account.json": json.dumps(
        [{"endTime": "2021-07-01 12:00", "artistName": "A", "trackName": "T", "msPlayed": 60000}]
    ),
    "headerless.csv": "A,B,T,01 Jul 2021 12:00\n",
    "headered.csv": "uts,utc_time,artist,album,track\n,\"01 Jul 2021, 12:00\",A,B,T\n",
    "log.txt": "#AUDIOSCROBBLER/1.1\n#TZ/UTC\nA\tB\tT\t1\t200\tL\t1625140800\t\n",
}  # fmt: skip
NOON = 1625140800  # 2021-07-01T12:00:00Z


def _instants_under(tz: str, folder: Path) -> dict[str, object]:
    env = {**os.environ, "TZ": tz}
    done = subprocess.run(
        [sys.executable, "-c", TZ_SCRIPT, str(folder)],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_same_files_give_the_same_instants_in_any_time_zone(tmp_path: Path) -> None:
    for name, text in TZ_FILES.items():
        (tmp_path / name).write_text(text)
    in_utc = _instants_under("UTC", tmp_path)
    in_auckland = _instants_under("Pacific/Auckland", tmp_path)
    assert in_utc["utc_offset"] == 0 and in_auckland["utc_offset"] != 0
    assert in_utc["instants"] == in_auckland["instants"]
    assert in_utc["instants"] == [
        ["account.json", NOON - 60],
        ["headered.csv", NOON],
        ["headerless.csv", NOON],
        ["lb.jsonl", NOON],
        ["log.txt", NOON],
        ["sp.json", NOON - 60],
    ]


# -- a crash in the middle of an import ---------------------------------------------------------


def test_sigkill_mid_import_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    small = write_listenbrainz_jsonl(tmp_path / "small.jsonl", 10, start=1_500_000_000)
    big = write_listenbrainz_jsonl(tmp_path / "big.jsonl", 100_000)
    command = [sys.executable, "-c", "from playlists.cli import main; main()", "--db", str(db)]
    subprocess.run(
        [*command, "import", "listenbrainz", str(small), "--listener", "rob"],
        cwd=REPO, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    with Store.open(db) as store:
        before = store.counts()
    assert before["listens"] == 10 and before["imports"] == 1
    process = subprocess.Popen(
        [*command, "import", "listenbrainz", str(big), "--listener", "rob"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    with process.stderr:
        first_progress = process.stderr.readline()  # printed once 50,000 rows are written
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    assert "50,000 rows read" in first_progress
    assert process.returncode == -signal.SIGKILL
    with Store.open(db) as store:
        assert store.conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # Fully before the killed import; the import committed earlier is fully there.
        assert store.counts() == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unreadable_file_is_an_import_error(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "listens.jsonl"
    path.write_text("{}\n")
    denied = PermissionError(13, "Permission denied")
    with (
        Store.open(":memory:") as store,
        mock.patch.object(Path, "open", side_effect=denied),
        pytest.raises(IngestError, match="Permission denied.*permissions"),
    ):
        import_path(store, fmt, path, listener="rob")


# -- the format names the terms side knows without importing the readers ------------------------


def test_the_format_names_are_exactly_the_readers() -> None:
    from recommender.ingest.records import IMPORT_FORMATS
    from recommender.sources import READERS

    assert sorted(IMPORT_FORMATS) == sorted(READERS)
    assert len(set(IMPORT_FORMATS)) == len(IMPORT_FORMATS)
