"""Real audio files for the music-folder tests: sox (Debian `sox`) writes a short FLAC and Ogg
Vorbis tone once per session, copies of them get their tags from mutagen.

Tests using them skip only when sox is absent, naming the package to install.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import mutagen
import pytest

SOX = shutil.which("sox")
needs_sox = pytest.mark.skipif(
    SOX is None, reason="needs sox to write audio files: apt-get install sox libsox-fmt-base"
)

MBID_A = "8f3471b5-7e6a-48da-86a9-c1c07a0f47ae"
MBID_B = "0b6e2ed9-5c7b-4d4b-93e6-3b6c6f1d2a10"
MBID_C = "d5b1c2c5-7a55-4c47-9d0f-3a8e2f6b9c01"
RELEASE = "1c9a3b7e-2f4d-4a6b-8e0c-5d7f9a1b3c5e"
ARTIST_MBID = "b10bbbfc-cf9e-42e0-be17-e2c3e1d2600d"


def tone(folder: Path, suffix: str, seconds: float = 0.3) -> Path:
    """A real `suffix` (".flac" or ".ogg") file of a short sine tone, untagged."""
    if SOX is None:
        pytest.skip("needs sox to write audio files: apt-get install sox libsox-fmt-base")
    target = folder / f"tone-{seconds}{suffix}"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [SOX, "-n", "-r", "8000", "-c", "1", str(target), "synth", str(seconds), "sine", "440"],
            check=True,
            capture_output=True,
        )
    return target


def tagged(template: Path, target: Path, tags: Mapping[str, str]) -> Path:
    """A copy of `template` at `target` (or `target` retagged) with these easy tags
    (artist, title, album, albumartist, tracknumber, musicbrainz_trackid, ...) by mutagen."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if template != target:
        shutil.copyfile(template, target)
    audio = mutagen.File(str(target), easy=True)
    assert audio is not None
    for key, value in tags.items():
        audio[key] = value
    audio.save()
    return target
