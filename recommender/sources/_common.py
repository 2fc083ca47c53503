"""What the personal-history readers share: safe archive access, text and JSON streaming, times.

Every export is seen as a list of `Member`s (the files of a zip, of a folder, or one bare
file), each opened as a byte stream that is capped in size and turns archive damage into
`IngestError`. On top of that: strict line decoding whose error names the fix
(`--encoding`), JSON Lines, a streaming splitter for large JSON arrays (one item in memory at
a time), and UTC timestamp parsing that never looks at the machine's time zone.
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
from pathlib import Path, PurePosixPath
from typing import IO

from recommender.errors import ExportTooLarge, IngestError, UnsafeArchive

MAX_MEMBERS = 1000
MAX_MEMBER_BYTES = 1 << 30  # 1 GiB, declared or actually decompressed
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

    @property
    def basename(self) -> str:
        return PurePosixPath(self.name).name

    def open(self) -> io.BufferedReader:
        """A buffered byte stream over the member that refuses to grow past the size cap."""
        try:
            raw = self.opener()
        except _ARCHIVE_ERRORS as exc:
            raise IngestError(f"cannot open {self.name} ({exc}): export the data again") from exc
        return io.BufferedReader(CappedStream(raw, self.name, self.cap), buffer_size=1 << 16)


class CappedStream(io.RawIOBase):
    """Counts the bytes actually read, so a lying size header cannot inflate past the cap."""

    def __init__(self, raw: IO[bytes], name: str, cap: int | None) -> None:
        self.raw = raw
        self.name_in_export = name
        self.cap = cap
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
        found = []
        for file in path.rglob("*"):
            if file.is_file():
                name = file.relative_to(path).as_posix()
                found.append(Member(name, file.stat().st_size, _file_opener(file)))
        return sorted(found, key=lambda m: natural_key(m.name))
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
        found.append(
            Member(info.filename, info.file_size, _zip_opener(archive, info), MAX_MEMBER_BYTES)
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
    """The codec's canonical name, or an error that says how to name one."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise IngestError(
            f"unknown encoding {encoding!r}: pass one Python knows, e.g. --encoding latin-1"
        ) from None


def _line_based(encoding: str) -> bool:
    """True when a newline is the single byte 0x0A, so bytes can be split before decoding."""
    name = check_encoding(encoding)
    return not name.startswith(("utf-16", "utf-32")) and "\n".encode(name) == b"\n"


def decode_error(location: str, encoding: str, sample: bytes) -> IngestError:
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


def text_lines(member: Member, encoding: str) -> Iterator[tuple[int, str]]:
    """(line number, line with its newline) for each line, decoded strictly."""
    codec = check_encoding(encoding)
    with member.open() as stream:
        if not _line_based(codec):
            wrapper = io.TextIOWrapper(stream, encoding=codec, newline="")
            number = 0
            try:
                for number, line in enumerate(wrapper, start=1):  # noqa: B007
                    yield number, line
            except UnicodeDecodeError:
                raise decode_error(f"{member.name} near line {number + 1}", encoding, b"") from None
            return
        # Excel and Windows tools start UTF-8 files with a byte order mark.
        first_codec = "utf-8-sig" if codec == "utf-8" else codec
        number = 0
        while True:
            raw = stream.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE_BYTES:
                raise IngestError(
                    f"{member.name}:{number} is longer than {MAX_LINE_BYTES:,} bytes: "
                    "this is not an export tastemaker reads"
                )
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
        yield from _array_items(member, encoding)
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


_AFTER_ITEM = frozenset(" \t\r\n,]")


def _array_items(member: Member, encoding: str) -> Iterator[tuple[str, object]]:
    """Stream the items of a top-level JSON array without holding the array in memory."""
    codec = check_encoding(encoding)
    decoder = codecs.getincrementaldecoder("utf-8-sig" if codec == "utf-8" else codec)()
    scanner = json.JSONDecoder()
    with member.open() as stream:
        buffer = ""
        pos = 0
        eof = False
        read_bytes = 0

        def fill() -> None:
            nonlocal buffer, pos, eof, read_bytes
            chunk = stream.read(CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError:
                raise decode_error(
                    f"{member.name} near byte {read_bytes:,}", encoding, chunk[:4096]
                ) from None
            read_bytes += len(chunk)
            eof = not chunk
            buffer = buffer[pos:] + text
            pos = 0

        def skip_space() -> bool:
            """Move to the next significant character; False at the end of the file."""
            nonlocal pos
            while True:
                while pos < len(buffer) and buffer[pos] in " \t\r\n":
                    pos += 1
                if pos < len(buffer):
                    return True
                if eof:
                    return False
                fill()

        def damaged(what: str) -> IngestError:
            return IngestError(
                f"{member.name} is not a complete JSON array ({what}): "
                "the file is damaged or cut short; download the export again"
            )

        if not skip_space() or buffer[pos] != "[":
            raise damaged("it does not start with [")
        pos += 1
        number = 0
        if not skip_space():
            raise damaged("it ends after [")
        if buffer[pos] == "]":
            pos += 1
        else:
            while True:
                if not skip_space():
                    raise damaged(f"it ends before item {number + 1}")
                while True:
                    try:
                        value, end = scanner.raw_decode(buffer, pos)
                    except (ValueError, RecursionError) as exc:
                        if eof:
                            raise damaged(f"item {number + 1}: {_short(exc)}") from None
                        if len(buffer) - pos > MAX_ITEM_CHARS:
                            raise damaged(f"item {number + 1} is too long") from None
                        fill()
                        continue
                    if not eof and (end == len(buffer) or buffer[end] not in _AFTER_ITEM):
                        # A number cut by the chunk edge parses as its prefix ("10." as 10):
                        # read on until a separator follows it.
                        if len(buffer) - pos > MAX_ITEM_CHARS:
                            raise damaged(f"item {number + 1} is too long")
                        fill()
                        continue
                    break
                number += 1
                pos = end
                yield f"{member.name} item {number}", value
                if not skip_space():
                    raise damaged(f"it ends after item {number}")
                if buffer[pos] == ",":
                    pos += 1
                    continue
                if buffer[pos] == "]":
                    pos += 1
                    break
                raise damaged(f"expected , or ] after item {number}")
        if skip_space():
            raise damaged("there is more data after the closing ]")


# -- fields --------------------------------------------------------------------------------


def text_field(obj: dict[str, object], key: str) -> str | None:
    """A non-empty, stripped string value, else None."""
    value = obj.get(key)
    if isinstance(value, str):
        value = value.strip()
        if value:
            return value
    return None


def whole_number(value: object) -> int | None:
    """An int from a JSON int, finite float or digit string; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return math.floor(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) < 20:
            return int(text)
    return None


def mbid(value: object) -> str | None:
    """A MusicBrainz id in canonical lower case, or None when the value is not one."""
    if isinstance(value, str):
        text = value.strip().lower()
        if _MBID.match(text):
            return text
    return None


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
