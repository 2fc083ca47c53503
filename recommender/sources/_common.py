"""What the personal-history readers share: safe archive access, text and JSON streaming, times.

Every export is seen as a list of `Member`s (the files of a zip, of a folder, or one bare
file), each opened as a byte stream that is capped in size and turns archive damage into
`IngestError`. A zip may inflate to at most `MAX_EXPORT_BYTES` in all and no member to more
than `MAX_RATIO` times its packed size (past 1 MiB): a small zip cannot keep an import busy.
On top of that: strict line decoding whose error names the fix (`--encoding`, offered only
when the bytes look like text), JSON Lines, a streaming JSON reader (one array item in memory
at a time, every value bounded), and UTC timestamp parsing that never looks at the machine's
time zone.
"""

from __future__ import annotations

import codecs
import io
import json
import lzma
import math
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import IO

from recommender.errors import ExportTooLarge, IngestError, UnsafeArchive
from recommender.ingest.files import folder_files, require_regular_file

MAX_MEMBERS = 1000
MAX_MEMBER_BYTES = 1 << 30  # 1 GiB, declared or actually decompressed
MAX_EXPORT_BYTES = 4 << 30  # 4 GiB unpacked from one zip in all (10 years of Spotify: ~0.3 GiB)
MAX_RATIO = 100  # real exports pack 5-20 times; a zip bomb packs a thousand times
RATIO_FROM = 1 << 20  # small members may pack well (a file of one repeated line)
MAX_LINE_BYTES = 1 << 20  # no real export has a 1 MiB line
MAX_ITEM_CHARS = 1 << 22  # nor a 4 Mi-character JSON item
CHUNK = 1 << 20

MIN_PLAY_MS = 30_000  # a play shorter than this is a skip, not a listen
SHORT_PLAY = "played under 30 s (a skip, not a listen)"

# Listens outside these instants are clock errors ("1 Jan 1970") rather than history.
EARLIEST = 631_152_000  # 1990-01-01T00:00:00Z
LATEST = 4_102_444_800  # 2100-01-01T00:00:00Z

_ARCHIVE_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    RuntimeError,  # encrypted member, unsupported compression
    ValueError,
    struct.error,
)
_MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


# -- members -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One file of an export: its name inside the export, declared size and how to open it."""

    name: str
    size: int
    opener: Callable[[], IO[bytes]]
    cap: int | None = None  # most bytes it may unpack to (zip members); None for plain files
    budget: Budget | None = None  # what the whole zip may still unpack to

    @property
    def basename(self) -> str:
        return PurePosixPath(self.name).name

    def open(self) -> io.BufferedReader:
        """A buffered byte stream over the member that refuses to grow past the size cap."""
        try:
            raw = self.opener()
        except _ARCHIVE_ERRORS as exc:
            raise IngestError(f"cannot open {self.name} ({exc}): export the data again") from exc
        stream = CappedStream(raw, self.name, self.cap, self.budget)
        return io.BufferedReader(stream, buffer_size=1 << 16)


class Budget:
    """The bytes one zip may still unpack to, shared by all its members (and re-reads)."""

    def __init__(self, path: Path, limit: int = MAX_EXPORT_BYTES) -> None:
        self.path = path
        self.left = limit
        self.limit = limit

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise ExportTooLarge(
                f"{self.path} unpacks to more than {self.limit:,} bytes in all: refusing it "
                "as suspicious; unpack it and import the files you need one by one"
            )


class CappedStream(io.RawIOBase):
    """Counts the bytes actually read, so a lying size header cannot inflate past the cap."""

    def __init__(
        self, raw: IO[bytes], name: str, cap: int | None, budget: Budget | None = None
    ) -> None:
        self.raw = raw
        self.name_in_export = name
        self.cap = cap
        self.budget = budget
        self.seen = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self.raw.read(len(buffer))
        except _ARCHIVE_ERRORS as exc:
            raise IngestError(
                f"{self.name_in_export} is damaged ({exc}): download the export again"
            ) from exc
        self.seen += len(data)
        if self.budget is not None:
            self.budget.spend(len(data))
        if self.cap is not None and self.seen > self.cap:
            raise ExportTooLarge(
                f"{self.name_in_export} unpacks to more than {self.cap:,} bytes: "
                "refusing it; split the export or import its files one by one"
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self.raw.close()
        finally:
            super().close()


@contextmanager
def open_export(path: Path) -> Iterator[list[Member]]:
    """The files of an export given as a zip, a folder or one bare file, in name order."""
    try:
        files = _listing(path)
    except OSError as exc:
        raise IngestError(
            f"cannot read {path} ({exc.strerror or exc}): check the path and its permissions"
        ) from exc
    if isinstance(files, list):
        yield files
        return
    with files:
        yield _zip_members(path, files)


def _listing(path: Path) -> list[Member] | zipfile.ZipFile:
    if path.is_dir():
        # Symlinks leading outside the folder, FIFOs and devices are never read.
        found = [
            Member(name, file.stat().st_size, _file_opener(file))
            for name, file in folder_files(path).files
        ]
        return sorted(found, key=lambda m: natural_key(m.name))
    require_regular_file(path)
    if _is_zip(path):
        _refuse_many_entries(path)
        try:
            return zipfile.ZipFile(path)
        except _ARCHIVE_ERRORS as exc:
            raise IngestError(
                f"{path} is not a readable zip ({exc}): download the export again"
            ) from exc
    return [Member(path.name, path.stat().st_size, _file_opener(path))]


def is_bundle(path: Path) -> bool:
    """True for a folder or a zip: an export of several files rather than one bare file."""
    return path.is_dir() or _is_zip(path)


def _file_opener(file: Path) -> Callable[[], IO[bytes]]:
    return lambda: file.open("rb")


def _is_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) in (b"PK\x03\x04", b"PK\x05\x06")


def _zip_members(path: Path, archive: zipfile.ZipFile) -> list[Member]:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise UnsafeArchive(
            f"{path} holds {len(infos):,} files, more than {MAX_MEMBERS:,}: refusing it as "
            "suspicious; unpack it and import the files you need"
        )
    found = []
    budget = Budget(path)
    declared = 0
    for info in infos:
        if info.is_dir():
            continue
        if _unsafe_name(info.filename):
            raise UnsafeArchive(
                f"{path} contains the path {info.filename!r}, which points outside the archive: "
                "refusing it as suspicious"
            )
        if info.file_size > MAX_MEMBER_BYTES:
            raise ExportTooLarge(
                f"{info.filename} in {path} declares {info.file_size:,} bytes, more than "
                f"{MAX_MEMBER_BYTES:,}: refusing it; unpack it and import its files one by one"
            )
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise UnsafeArchive(
                f"{info.filename} in {path} inflates {info.file_size:,} bytes from "
                f"{info.compress_size:,}, more than {MAX_RATIO} times: refusing it as a zip bomb; "
                "unpack it yourself if you trust it"
            )
        declared += info.file_size
        if declared > MAX_EXPORT_BYTES:
            raise ExportTooLarge(
                f"{path} declares more than {MAX_EXPORT_BYTES:,} unpacked bytes in all: "
                "refusing it; unpack it and import the files you need one by one"
            )
        # zipfile never inflates a member past its declared size, so the caps hold.
        cap = min(MAX_MEMBER_BYTES, info.file_size)
        found.append(
            Member(info.filename, info.file_size, _zip_opener(archive, info), cap, budget)
        )
    return sorted(found, key=lambda m: natural_key(m.name))


def _zip_opener(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
    return lambda: archive.open(info)


def _refuse_many_entries(path: Path) -> None:
    """Read the entry count from the end record before zipfile loads the whole directory."""
    with path.open("rb") as handle:
        handle.seek(0, io.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - (22 + 0xFFFF)))
        tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return  # zipfile will report the damage
    entries = struct.unpack("<H", tail[at + 10 : at + 12])[0]
    if entries != 0xFFFF and entries > MAX_MEMBERS:
        raise UnsafeArchive(
            f"{path} holds {entries:,} files, more than {MAX_MEMBERS:,}: refusing it as "
            "suspicious; unpack it and import the files you need"
        )


def _unsafe_name(name: str) -> bool:
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return True
    return ".." in re.split(r"[\\/]", name)


def natural_key(name: str) -> list[object]:
    """Sort "listens/2021/10.jsonl" after "listens/2021/9.jsonl"."""
    return [
        (0, int(part), "") if part.isdecimal() else (1, 0, part)
        for part in re.split(r"(\d+)", name)
    ]


# -- text ----------------------------------------------------------------------------------


def check_encoding(encoding: str) -> str:
    """The canonical name of a text encoding, or an error that says how to name one.

    Codecs that turn bytes into bytes or text into text (base64, zlib, rot13) are refused: an
    export is text in some character encoding.
    """
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise IngestError(
            f"unknown encoding {encoding!r}: pass one Python knows, e.g. --encoding latin-1"
        ) from None
    if not getattr(info, "_is_text_encoding", True):
        raise IngestError(
            f"{encoding!r} is not a text encoding: pass the encoding the export's text was "
            "saved in, e.g. --encoding latin-1"
        )
    return info.name


def _line_based(encoding: str) -> bool:
    """True when a newline is the single byte 0x0A, so bytes can be split before decoding."""
    name = check_encoding(encoding)
    return not name.startswith(("utf-16", "utf-32")) and "\n".encode(name) == b"\n"


# Signatures of files people pick by mistake, named in the error instead of encoding advice.
_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x1f\x8b", "a gzip file"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"ID3", "an MP3 file"),
    (b"fLaC", "a FLAC file"),
    (b"OggS", "an Ogg file"),
    (b"\x7fELF", "a program"),
)
_CONTROL = frozenset(range(32)) - {9, 10, 12, 13}


def binary_kind(sample: bytes) -> str | None:
    """What a sample of bytes is when it is clearly not text ("a PNG image"), else None."""
    for magic, kind in _BINARY_MAGIC:
        if sample.startswith(magic):
            return kind
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16 with its byte order mark
    if _utf16_without_bom(sample):
        return None
    head = sample[:4096]
    if not head:
        return None
    controls = sum(1 for byte in head if byte in _CONTROL)
    return "binary data, not text" if controls > len(head) // 20 else None


def _utf16_without_bom(sample: bytes) -> bool:
    """Mostly ASCII text in UTF-16: every other byte is NUL."""
    head = sample[:4096]
    if len(head) < 8:
        return False
    even, odd = head[0::2], head[1::2]
    return even.count(0) > 0.8 * len(even) or odd.count(0) > 0.8 * len(odd)


def decode_error(location: str, encoding: str, sample: bytes) -> IngestError:
    """The error for bytes that do not decode: the encoding to pass when they look like text,
    else what they look like."""
    kind = binary_kind(sample)
    if kind is not None:
        return IngestError(
            f"{location} is {kind}: pass the export file itself (JSON, CSV or a zip of them)"
        )
    guess = (
        "utf-16"
        if sample.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in sample
        else ("latin-1")
    )
    if check_encoding(encoding) == "utf-8":
        return IngestError(
            f"{location} is not UTF-8 text: this file looks {guess}: pass --encoding {guess}"
        )
    return IngestError(
        f"{location} is not {encoding} text: pass the file's real encoding with --encoding"
    )


def _too_long(location: str) -> IngestError:
    return IngestError(
        f"{location} is longer than {MAX_LINE_BYTES:,} bytes: "
        "this is not an export tastemaker reads"
    )


def text_lines(member: Member, encoding: str) -> Iterator[tuple[int, str]]:
    """(line number, line with its newline) for each line, decoded strictly; a line longer than
    MAX_LINE_BYTES is an error (never read whole)."""
    codec = check_encoding(encoding)
    with member.open() as stream:
        if not _line_based(codec):
            wrapper = io.TextIOWrapper(stream, encoding=codec, newline="")
            number = 0
            try:
                while True:
                    line = wrapper.readline(MAX_LINE_BYTES + 1)
                    if not line:
                        return
                    number += 1
                    if len(line) > MAX_LINE_BYTES:
                        raise _too_long(f"{member.name}:{number}")
                    yield number, line
            except UnicodeDecodeError:
                raise decode_error(f"{member.name} near line {number + 1}", encoding, b"") from None
        # Excel and Windows tools start UTF-8 files with a byte order mark.
        first_codec = "utf-8-sig" if codec == "utf-8" else codec
        number = 0
        while True:
            raw = stream.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE_BYTES:
                raise _too_long(f"{member.name}:{number}")
            try:
                line = raw.decode(first_codec if number == 1 else codec)
            except UnicodeDecodeError:
                raise decode_error(f"{member.name}:{number}", encoding, raw) from None
            yield number, line


def first_text(member: Member, encoding: str, size: int = 4096) -> str:
    """The start of a member as text, for telling layouts apart; decoded strictly."""
    with member.open() as stream:
        head = stream.read(size)
    codec = check_encoding(encoding)
    kind = binary_kind(head)
    if kind is not None:
        raise IngestError(
            f"{member.name} is {kind}: pass the export file itself (JSON, CSV or a zip of them)"
        )
    decoder = codecs.getincrementaldecoder("utf-8-sig" if codec == "utf-8" else codec)()
    try:
        # Not final: a character cut by the end of the sample is not an error.
        return str(decoder.decode(head, final=len(head) < size))
    except UnicodeDecodeError as exc:
        line = head[: exc.start].count(b"\n") + 1
        raise decode_error(f"{member.name}:{line}", encoding, head) from None


# -- JSON ----------------------------------------------------------------------------------


def json_items(member: Member, encoding: str) -> Iterator[tuple[str, object | ValueError]]:
    """Each item of a JSON array file, or each line of a JSON Lines file.

    A JSON Lines line that does not parse is yielded as a ValueError (the caller rejects
    that line and goes on); a damaged JSON array cannot be resynchronised, so it raises.
    """
    head = first_text(member, encoding).lstrip()
    if head.startswith("["):
        with JsonStream(member, encoding) as stream:
            stream.expect("[", "it does not start with [")
            yield from stream.items(f"{member.name} item")
            stream.end()
        return
    for number, line in text_lines(member, encoding):
        if not line.strip():
            continue
        location = f"{member.name}:{number}"
        try:
            yield location, json.loads(line)
        except (ValueError, RecursionError) as exc:
            yield location, ValueError(f"not valid JSON ({_short(exc)})")


def small_json(member: Member, encoding: str, limit: int = 1 << 20) -> object | ValueError:
    """A small JSON document read whole (user.json), or the ValueError saying why not."""
    with member.open() as stream:
        raw = stream.read(limit + 1)
    if len(raw) > limit:
        return ValueError(f"longer than {limit:,} bytes")
    codec = check_encoding(encoding)
    try:
        document: object = json.loads(raw.decode("utf-8-sig" if codec == "utf-8" else codec))
    except UnicodeDecodeError:
        raise decode_error(member.name, encoding, raw) from None
    except (ValueError, RecursionError) as exc:
        return ValueError(f"not valid JSON ({_short(exc)})")
    return document


def _short(exc: BaseException) -> str:
    text = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
    return text[:80]


_AFTER_VALUE = frozenset(" \t\r\n,]}:")


class JsonStream:
    """A JSON document read as a stream: one value (or one array item) in memory at a time.

    `items()` walks an array, `members()` an object's keys, `value()` reads one whole value
    of at most MAX_ITEM_CHARS characters. Anything that is not JSON raises IngestError saying
    the file is damaged: unlike JSON Lines, a JSON document cannot be resynchronised.
    """

    def __init__(self, member: Member, encoding: str) -> None:
        self.member = member
        self.encoding = encoding
        codec = check_encoding(encoding)
        self._decoder = codecs.getincrementaldecoder("utf-8-sig" if codec == "utf-8" else codec)()
        self._scanner = json.JSONDecoder()
        self._stream = member.open()
        self._buffer = ""
        self._pos = 0
        self._eof = False
        self._read_bytes = 0

    def __enter__(self) -> JsonStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.close()

    def _fill(self) -> None:
        chunk = self._stream.read(CHUNK)
        try:
            text = self._decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            raise decode_error(
                f"{self.member.name} near byte {self._read_bytes:,}", self.encoding, chunk[:4096]
            ) from None
        self._read_bytes += len(chunk)
        self._eof = not chunk
        self._buffer = self._buffer[self._pos :] + text
        self._pos = 0

    def damaged(self, what: str) -> IngestError:
        return IngestError(
            f"{self.member.name} is not complete JSON ({what}): "
            "the file is damaged or cut short; download the export again"
        )

    def peek(self) -> str:
        """The next significant character, "" at the end of the file."""
        while True:
            buffer = self._buffer
            while self._pos < len(buffer) and buffer[self._pos] in " \t\r\n":
                self._pos += 1
            if self._pos < len(buffer):
                return buffer[self._pos]
            if self._eof:
                return ""
            self._fill()

    def expect(self, char: str, what: str) -> None:
        if self.peek() != char:
            raise self.damaged(what)
        self._pos += 1

    def value(self, what: str) -> object:
        """One whole JSON value (an item, a key's value)."""
        if not self.peek():
            raise self.damaged(f"it ends before {what}")
        while True:
            try:
                value, end = self._scanner.raw_decode(self._buffer, self._pos)
            except (ValueError, RecursionError) as exc:
                if self._eof:
                    raise self.damaged(f"{what}: {_short(exc)}") from None
                self._grow(what)
                continue
            if not self._eof and (
                end == len(self._buffer) or self._buffer[end] not in _AFTER_VALUE
            ):
                # A number cut by the chunk edge parses as its prefix ("10." as 10): read on
                # until a separator follows it.
                self._grow(what)
                continue
            self._pos = end
            return value

    def _grow(self, what: str) -> None:
        if len(self._buffer) - self._pos > MAX_ITEM_CHARS:
            raise IngestError(
                f"{self.member.name}: {what} is longer than {MAX_ITEM_CHARS:,} characters: "
                "this is not an export tastemaker reads"
            )
        self._fill()

    def items(self, what: str) -> Iterator[tuple[str, object]]:
        """The items of the array whose "[" was just read, with their locations."""
        number = 0
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            number += 1
            value = self.value(f"{what} {number}")
            yield f"{what} {number}", value
            following = self.peek()
            self._pos += 1
            if following == "]":
                return
            if following != ",":
                raise self.damaged(f"expected , or ] after {what} {number}")

    def members(self) -> Iterator[str]:
        """The keys of the object whose "{" was just read; the caller reads each key's value
        (with `value`, or `expect("[")` and `items`) before asking for the next key."""
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            key = self.value("a key")
            if not isinstance(key, str):
                raise self.damaged("an object key is not a string")
            self.expect(":", f"expected : after the key {key[:40]!r}")
            yield key
            following = self.peek()
            self._pos += 1
            if following == "}":
                return
            if following != ",":
                raise self.damaged(f"expected , or }} after the value of {key[:40]!r}")

    def skip(self, what: str) -> None:
        """Read past one value without keeping it (arrays item by item)."""
        if self.peek() == "[":
            self._pos += 1
            for _ in self.items(what):
                pass
        else:
            self.value(what)

    def end(self) -> None:
        if self.peek():
            raise self.damaged("there is more data after its end")


# -- fields --------------------------------------------------------------------------------


def is_text(value: str) -> bool:
    """False for a string SQLite cannot store as UTF-8 (a lone surrogate such as "\\ud800",
    which a JSON escape can make)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text_field(obj: dict[str, object], key: str) -> str | None:
    """A non-empty, stripped string value, else None (also for text that is not valid
    Unicode)."""
    value = obj.get(key)
    if isinstance(value, str):
        value = value.strip()
        if value and (value.isascii() or is_text(value)):
            return value
    return None


# Large enough for any count or time an export holds, small enough for SQLite's 64-bit INTEGER.
MAX_WHOLE = 10**15


def whole_number(value: object) -> int | None:
    """An int from a JSON int, finite float or ASCII digit string within +-MAX_WHOLE; None for
    anything else (a superscript digit, 23 digits, 1e30)."""
    number: int | None = None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        number = math.floor(value) if math.isfinite(value) and abs(value) < 2 * MAX_WHOLE else None
    elif isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) < 20:
            number = int(text)
    if number is None or abs(number) > MAX_WHOLE:
        return None
    return number


def mbid(value: object) -> str | None:
    """A MusicBrainz id in canonical lower case, or None when the value is not one."""
    if isinstance(value, str):
        text = value.strip().lower()
        if _MBID.match(text):
            return text
    return None


_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$")
_SPOTIFY_TRACK = re.compile(
    r"^(?:spotify:track:|https?://open\.spotify\.com/(?:intl-[a-z-]+/)?track/)([0-9A-Za-z]{22})(?:[?#].*)?$"
)


def isrc(value: object) -> str | None:
    """An ISRC in its canonical 12-character form ("USRC17607839"), or None."""
    if isinstance(value, str):
        text = value.strip().upper().replace("-", "")
        if _ISRC.match(text):
            return text
    return None


def spotify_track_uri(value: object) -> str | None:
    """`spotify:track:<id>` from a Spotify track URI or open.spotify.com link, or None."""
    return _spotify_track_uri(value) if isinstance(value, str) else None


# A history names the same tracks over and over: the parse is remembered.
@lru_cache(maxsize=1 << 16)
def _spotify_track_uri(value: str) -> str | None:
    found = _SPOTIFY_TRACK.match(value.strip())
    return f"spotify:track:{found.group(1)}" if found else None


# -- time ----------------------------------------------------------------------------------


def instant(seconds: int | None) -> int | None:
    """`seconds` if it is a plausible listening time, else None."""
    if seconds is None or not EARLIEST <= seconds < LATEST:
        return None
    return seconds


def iso_instant(text: object) -> int | None:
    """Unix seconds from an ISO 8601 time ("2021-03-04T12:34:56Z"); naive times are UTC."""
    if not isinstance(text, str) or not text.strip() or len(text) > 40:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return instant(math.floor(moment.timestamp()))


_MONTHS = {
    name: number
    for number, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}
_DAY_MONTH_YEAR = re.compile(
    r"^(\d{1,2}) ([A-Za-z]{3})[A-Za-z]* (\d{4}),? (\d{1,2}):(\d{2})(?::(\d{2}))?$"
)
_ENDTIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$")


def text_instant(text: str) -> int | None:
    """Unix seconds from the UTC dates that exports write as text.

    "31 Jan 2021 14:05" and "31 Jan 2021, 14:05" (Last.fm), "2021-01-31 14:05" (Spotify's
    endTime) and full ISO 8601. Month names are matched here, not by strptime, so the
    machine's locale cannot change the answer.
    """
    text = " ".join(text.split())
    found = _DAY_MONTH_YEAR.match(text)
    if found:
        day, month_name, year, hour, minute, second = found.groups()
        month = _MONTHS.get(month_name.lower())
        if month is None:
            return None
        return _utc(int(year), month, int(day), int(hour), int(minute), int(second or 0))
    found = _ENDTIME.match(text)
    if found:
        year, month_text, day, hour, minute, second = found.groups()
        return _utc(int(year), int(month_text), int(day), int(hour), int(minute), int(second or 0))
    return iso_instant(text)


def _utc(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int | None:
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    return instant(int(moment.timestamp()))
