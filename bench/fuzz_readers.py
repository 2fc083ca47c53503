"""Coverage-guided fuzzing of the personal-history readers with atheris (not run by make test).

Each input picks a reader (listenbrainz, spotify, lastfm) and a container (a bare file, or a
zip whose members get names the readers look for) and is imported into an in-memory store.
The only exception allowed out is the project's `IngestError`; anything else is a crash that
atheris reports with the input that caused it.

    .venv/bin/pip install atheris
    .venv/bin/python bench/fuzz_readers.py -atheris_runs=20000      # or -max_total_time=300
"""

from __future__ import annotations

import io
import sys
import tempfile
import zipfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["recommender"]):
    from recommender.errors import IngestError
    from recommender.sources import TEXT_READERS, import_path
    from recommender.sources import _common as _  # noqa: F401  (instrument the shared code)
    from recommender.store import Store

FORMATS = sorted(TEXT_READERS)
FILE_NAMES = ["listens.jsonl", "history.json", "scrobbles.csv", ".scrobbler.log"]
MEMBER_NAMES = [
    "user.json",
    "feedback.jsonl",
    "listens/2021/1.jsonl",
    "Spotify Extended Streaming History/Streaming_History_Audio_2021_0.json",
    "MyData/StreamingHistory_music_0.json",
    "notes.txt",
]
FOLDER = Path(tempfile.mkdtemp(prefix="fuzz-readers-"))


def one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    fmt = FORMATS[provider.ConsumeIntInRange(0, len(FORMATS) - 1)]
    if provider.ConsumeBool():
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for _ in range(provider.ConsumeIntInRange(0, 3)):
                name = MEMBER_NAMES[provider.ConsumeIntInRange(0, len(MEMBER_NAMES) - 1)]
                archive.writestr(name, provider.ConsumeBytes(provider.ConsumeIntInRange(0, 400)))
        content = buffer.getvalue()
        path = FOLDER / "export.zip"
    else:
        path = FOLDER / FILE_NAMES[provider.ConsumeIntInRange(0, len(FILE_NAMES) - 1)]
        content = provider.ConsumeBytes(provider.remaining_bytes())
    path.write_bytes(content)
    with Store.open(":memory:") as store:
        try:
            import_path(store, fmt, path, listener="fuzz")
        except IngestError:
            pass
    path.unlink()


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
