"""Bringing data in: the record vocabulary readers speak (`records`) and the writer that stores
a stream of records as one transaction (`writer`).

Only the vocabulary is re-exported here, so that importing a record type never loads the store:
import the writer's names (`import_records`, `ImportReport`, `checksum`) from
`recommender.ingest.writer`.
"""

from recommender.ingest.records import (
    IMPORT_FORMATS,
    Artist,
    ArtistTag,
    DefaultListener,
    Feedback,
    Listen,
    Note,
    PlayCounts,
    Reader,
    Record,
    Rejected,
    RowsRead,
    Skipped,
    StoredTerms,
    TagCounts,
    Track,
    expanded,
)

__all__ = [
    "IMPORT_FORMATS",
    "Artist",
    "ArtistTag",
    "DefaultListener",
    "Feedback",
    "Listen",
    "Note",
    "PlayCounts",
    "RowsRead",
    "Reader",
    "Record",
    "Rejected",
    "Skipped",
    "StoredTerms",
    "TagCounts",
    "Track",
    "expanded",
]
