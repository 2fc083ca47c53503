"""Which artist a name means: the identity rules every import follows, read in bulk.

In order:

1. The dataset's own artist id (HetRec and demo ids): two entries a dataset keeps apart stay
   apart, even under one name (the second gets the key "name [source id]").
2. The MusicBrainz id: a listen carrying an artist MBID joins the artist holding it, whatever
   the spelling. Two artists with the same name and different MBIDs stay apart: the first keeps
   the plain key, each other one is stored with the key "name [mbid <mbid>]" and shown with a
   disambiguation, its MBID's first eight characters ("Nirvana (5b11f4ce)"). An artist known by
   name only takes the first MBID a later import gives it (its id does not change).
3. The name key (`recommender.names.name_key`). When several artists share it (the cases
   above), a name-only reference joins the one most of that name's listens belong to, counted
   over the listens stored before this import (so an import's result does not depend on its
   own order); a tie goes to the artist stored first. That choice is made the first time the
   name comes without any id and is then kept (recorded in `artist_external_ids` under the
   source "name"): the name goes on meaning that artist, so importing the same file again,
   or after more listens of a namesake arrived, changes nothing.

A "family" is a plain key and every key made from it ("key [..."); the variants exist only
beside their plain key, so a family is only looked up for keys the store already holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from recommender.store import Store

# How a record names an artist: (name, MusicBrainz id, the dataset's own id).
ArtistRef = tuple[str, str | None, str | None]

_FAMILY_CHUNK = 100
NAME_ALIAS = "name"  # artist_external_ids.source of "the artist this bare name means"


def mbid_key(key: str, mbid: str) -> str:
    """The key of an artist kept apart from a namesake by its MusicBrainz id."""
    return f"{key} [mbid {mbid}]"


def disambiguated(name: str, mbid: str) -> str:
    """How such an artist is shown: its name and the start of its MBID."""
    return f"{name} ({mbid[:8]})"


def family_rows(store: Store, keys: Iterable[str], select: str) -> list[dict[str, Any]]:
    """Artists whose key is one of `keys` or made from one ("key [...")."""
    wanted = sorted(set(keys))
    rows: list[dict[str, Any]] = []
    for start in range(0, len(wanted), _FAMILY_CHUNK):
        chunk = wanted[start : start + _FAMILY_CHUNK]
        # A range per key: "key [" up to "key [" + the highest code point, which the key index
        # answers without a scan (LIKE would not use it).
        condition = " OR ".join("key = ? OR (key >= ? AND key < ?)" for _ in chunk)
        args = [v for k in chunk for v in (k, f"{k} [", f"{k} [\U0010ffff")]
        rows.extend(store.db.table("artists").rows_where(condition, args, select=select))
    return rows


def plain_key(key: str) -> str:
    """The family a key belongs to ("nirvana [mbid ...]" -> "nirvana")."""
    at = key.find(" [")
    return key if at < 0 or not key.endswith("]") else key[:at]


class KnownArtists:
    """What the store knows about the artists one batch names, read in bulk, and the artists
    the batch adds. `resolve` follows the identity order of the module docstring exactly as
    row-by-row lookups would, batch additions included."""

    def __init__(
        self,
        store: Store,
        source: str,
        key: Callable[[str], str],
        refs: Sequence[ArtistRef],
        import_id: int,
    ) -> None:
        self.store = store
        self.source = source
        self.key = key
        self.import_id = import_id
        keys = {key(name) for name, _, _ in refs}
        external = {ext for _, _, ext in refs if ext is not None}
        mbids = {mbid for _, mbid, _ in refs if mbid}
        by_external = {
            str(r["external_id"]): int(r["artist_id"])
            for r in store.rows_in(
                "artist_external_ids",
                "external_id",
                external,
                where="source = ?",
                where_args=[source],
                select="external_id, artist_id",
            )
        }
        bare = {
            str(r["external_id"]): int(r["artist_id"])
            for r in store.rows_in(
                "artist_external_ids",
                "external_id",
                keys,
                where="source = ?",
                where_args=[NAME_ALIAS],
                select="external_id, artist_id",
            )
        }
        found: dict[int, dict[str, Any]] = {}
        select = "id, key, mbid"
        ids_wanted = set(by_external.values()) | set(bare.values())
        for column, values in (("key", keys), ("mbid", mbids), ("id", ids_wanted)):
            for row in store.rows_in("artists", column, values, select=select):
                found[int(row["id"])] = row
        # Variants live beside their plain key: look for them only where the plain key exists.
        plain_found = {plain_key(str(r["key"])) for r in found.values()} & keys
        if plain_found:
            for row in family_rows(store, plain_found, select):
                found[int(row["id"])] = row
        self.ids: dict[str, int] = {str(r["key"]): i for i, r in found.items()}
        self.mbid_of: dict[str, str | None] = {str(r["key"]): r["mbid"] for r in found.values()}
        # A lookup by MBID finds the oldest artist holding it.
        self.by_mbid: dict[str, str] = {}
        for artist_id in sorted(found):
            if found[artist_id]["mbid"]:
                self.by_mbid.setdefault(str(found[artist_id]["mbid"]), str(found[artist_id]["key"]))
        self.by_external = {ext: str(found[i]["key"]) for ext, i in by_external.items()}
        self.bare = {key: str(found[i]["key"]) for key, i in bare.items() if i in found}
        # What to record in artist_external_ids, in the order decided: (source, id, key).
        self.new_links: list[tuple[str, str, str]] = []
        self.family: dict[str, list[str]] = {}  # plain key -> member keys, oldest first
        for artist_id in sorted(found):
            member = str(found[artist_id]["key"])
            self.family.setdefault(plain_key(member), []).append(member)
        self.claimed = {
            str(found[int(r["artist_id"])]["key"])
            for r in store.rows_in(
                "artist_external_ids",
                "artist_id",
                [i for i, r in found.items() if r["key"] in keys],
                where="source = ?",
                where_args=[source],
                select="DISTINCT artist_id",
            )
        }
        self._listens: dict[str, int] | None = None
        self.new: dict[str, dict[str, Any]] = {}  # key -> row, in the order first named
        self.new_mbids: dict[int, str] = {}  # existing artist id -> MBID learnt now

    def separate_key(self, key: str, external_id: str) -> str:
        """The key of an artist the dataset keeps apart from another holding the same name."""
        return f"{key} [{self.source} {external_id}]"

    def _add(self, key: str, name: str, mbid: str | None) -> None:
        self.new[key] = {"name": name, "key": key, "mbid": mbid}
        self.mbid_of[key] = mbid
        self.family.setdefault(plain_key(key), []).append(key)

    def _majority(self, key: str) -> str:
        """The member of a name's family that a name-only reference joins."""
        members = self.family[key]
        if len(members) == 1:
            return members[0]
        if self._listens is None:
            self._listens = self._listen_counts()
        counts = self._listens
        # Oldest first, so the first stored wins a tie (max keeps the first of equals).
        return max(members, key=lambda m: counts.get(m, 0))

    def _listen_counts(self) -> dict[str, int]:
        """Listens per artist of every multi-member family, stored before this import."""
        ids = {
            self.ids[m]: m
            for members in self.family.values()
            if len(members) > 1
            for m in members
            if m in self.ids
        }
        counts: dict[str, int] = {}
        for artist_id, member in ids.items():
            counts[member] = int(
                self.store.conn.execute(
                    "SELECT count(*) FROM listens WHERE artist_id = ?"
                    " AND (import_id IS NULL OR import_id != ?)",
                    (artist_id, self.import_id),
                ).fetchone()[0]
            )
        return counts

    def find(self, name: str) -> str | None:
        """The key a name-only reference means, without adding or recording anything."""
        key = self.key(name)
        if key in self.bare:
            return self.bare[key]
        return self._majority(key) if key in self.family else None

    def _bare(self, key: str, name: str) -> str:
        """The artist a name without any id means (decided once, then kept)."""
        found = self.bare.get(key)
        if found is None:
            if key in self.family:
                found = self._majority(key)
            else:
                found = key
                self._add(key, name, None)
            self.bare[key] = found
            self.new_links.append((NAME_ALIAS, key, found))
        return found

    def resolve(self, name: str, mbid: str | None, external_id: str | None) -> str:
        """The key of the artist this reference means, adding it to the batch if it is new."""
        found: str | None = None
        if external_id is not None:
            found = self.by_external.get(external_id)
        if found is None and mbid:
            found = self.by_mbid.get(mbid)
        if found is None:
            key = self.key(name)
            if key not in self.family and (mbid or external_id is not None):
                found = key
                self._add(key, name, mbid)
            elif external_id is not None:
                found = key
                if found in self.claimed:
                    # The dataset lists this as a different artist from the one holding the key.
                    found = self.separate_key(key, external_id)
                    if found not in self.mbid_of:
                        self._add(found, name, mbid)
            elif mbid:
                found = self._with_mbid(key, name, mbid)
            else:
                found = self._bare(key, name)
            if mbid and self.mbid_of[found] is None:
                self.mbid_of[found] = mbid
                if found in self.new:
                    self.new[found]["mbid"] = mbid
                else:
                    self.new_mbids[self.ids[found]] = mbid
            if mbid and self.mbid_of[found] == mbid:
                self.by_mbid.setdefault(mbid, found)
        if external_id is not None and external_id not in self.by_external:
            self.by_external[external_id] = found
            self.new_links.append((self.source, external_id, found))
            self.claimed.add(found)
        return found

    def _with_mbid(self, key: str, name: str, mbid: str) -> str:
        """The artist of this name for a new MBID: the oldest namesake without an MBID takes
        it; when every namesake holds another one, a new artist is kept apart."""
        for member in self.family[key]:
            if self.mbid_of[member] is None:
                return member
        apart = mbid_key(key, mbid)
        if apart not in self.mbid_of:
            self._add(apart, disambiguated(name, mbid), mbid)
        return apart

    def write(self, ids: dict[str, int]) -> int:
        """Store what the batch added; fill `ids` (artists.key -> id); return artists added."""
        ids.update(self.ids)
        if self.new:
            added, _ = self.store.lookup_many(
                "artists", ("key",), {(key,): row for key, row in self.new.items()}
            )
            ids.update({str(key): i for (key,), i in added.items()})
        artists = self.store.db.table("artists")
        for artist_id, mbid in self.new_mbids.items():
            artists.update(artist_id, {"mbid": mbid})
        links = [
            {"source": source, "external_id": ext, "artist_id": ids[key]}
            for source, ext, key in self.new_links
        ]
        if links:
            self.store.db.table("artist_external_ids").insert_all(links, ignore=True)
        return len(self.new)
