-- A schema-2 store as tastemaker c1fd66a wrote it (see tests/legacy_stores.py).
CREATE TABLE artist_external_ids (
        source TEXT NOT NULL,
        external_id TEXT NOT NULL,
        artist_id INTEGER NOT NULL REFERENCES artists(id),
        PRIMARY KEY (source, external_id)
    );
INSERT INTO "artist_external_ids" VALUES('demo','17',2);
CREATE TABLE artist_tags (
        artist_id INTEGER NOT NULL REFERENCES artists(id),
        tag_id INTEGER NOT NULL REFERENCES tags(id),
        source TEXT NOT NULL,
        count INTEGER NOT NULL CHECK (count > 0),
        PRIMARY KEY (artist_id, tag_id, source)
    );
INSERT INTO "artist_tags" VALUES(1,1,'demo',12);
INSERT INTO "artist_tags" VALUES(2,2,'demo',30);
CREATE TABLE artists (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        key TEXT NOT NULL UNIQUE,
        mbid TEXT
    );
INSERT INTO "artists" VALUES(1,'Rancid','rancid','24f8d8a6-7a1b-4e6f-8d5e-0d1c2b3a4f5e');
INSERT INTO "artists" VALUES(2,'The Skatalites','skatalites',NULL);
INSERT INTO "artists" VALUES(3,'Bad Religion','bad religion',NULL);
CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        format TEXT NOT NULL,
        path TEXT NOT NULL,
        checksum TEXT NOT NULL,
        listener TEXT,
        imported INTEGER NOT NULL,
        duplicates INTEGER NOT NULL,
        skipped INTEGER NOT NULL,
        rejected INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL
    );
INSERT INTO "imports" VALUES(1,'demo','fixture','',NULL,5,0,0,0,'2026-12-01T09:42:09+00:00','2026-12-01T09:42:09+00:00');
INSERT INTO "imports" VALUES(2,'spotify','fixture.json','',NULL,1,0,0,0,'2026-12-01T09:42:09+00:00','2026-12-01T09:42:09+00:00');
CREATE TABLE listeners (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );
INSERT INTO "listeners" VALUES(1,'ana','2026-12-01T09:42:09+00:00');
INSERT INTO "listeners" VALUES(2,'ben','2026-12-01T09:42:09+00:00');
CREATE TABLE listens (
        id INTEGER PRIMARY KEY,
        listener_id INTEGER NOT NULL REFERENCES listeners(id) ON DELETE CASCADE,
        artist_id INTEGER NOT NULL REFERENCES artists(id),
        track_id INTEGER REFERENCES tracks(id),
        listened_at INTEGER,
        ms_played INTEGER,
        plays INTEGER NOT NULL DEFAULT 1 CHECK (plays > 0),
        source TEXT NOT NULL,
        import_id INTEGER REFERENCES imports(id) ON DELETE SET NULL,
        dedupe TEXT NOT NULL,
        UNIQUE (listener_id, dedupe)
    );
INSERT INTO "listens" VALUES(1,1,1,1,1700000000,158000,1,'demo',1,'t|1700000000|1|ruby soho');
INSERT INTO "listens" VALUES(2,1,1,2,1700000300,NULL,1,'demo',1,'t|1700000300|1|time bomb');
INSERT INTO "listens" VALUES(3,1,2,3,1700000600,NULL,1,'demo',1,'t|1700000600|2|guns of navarone');
INSERT INTO "listens" VALUES(4,2,3,4,1700000900,NULL,1,'demo',1,'t|1700000900|3|generator');
INSERT INTO "listens" VALUES(5,2,2,NULL,NULL,NULL,41,'demo',1,'agg|demo|2|');
INSERT INTO "listens" VALUES(6,1,1,5,1700001200,200000,1,'spotify',2,'t|1700001200|1|fall back down');
CREATE TABLE models (
        id TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        created_at TEXT NOT NULL,
        data_fingerprint TEXT NOT NULL,
        params TEXT NOT NULL,
        stale INTEGER NOT NULL DEFAULT 0,
        stale_reason TEXT
    );
INSERT INTO "models" VALUES('m-1','/nowhere/models/m-1','2026-01-01T00:00:00+00:00','abc','{}',1,'listens forgotten');
CREATE TABLE playlist_tracks (
        playlist_id TEXT NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        artist_id INTEGER NOT NULL REFERENCES artists(id),
        track_id INTEGER REFERENCES tracks(id),
        kind TEXT NOT NULL CHECK (kind IN ('familiar', 'discovery', 'unexpected', 'popular')),
        reason TEXT NOT NULL,
        PRIMARY KEY (playlist_id, position)
    );
INSERT INTO "playlist_tracks" VALUES('pl-legacy',1,1,1,'familiar','{"kind": "familiar", "text": "Rancid: familiar", "evidence": {"plays": 2}}');
INSERT INTO "playlist_tracks" VALUES('pl-legacy',2,3,4,'discovery','{"kind": "discovery", "text": "Bad Religion: discovery", "evidence": {"artist": "Bad Religion", "artist_id": 3, "because_of": [{"artist": "Rancid", "artist_id": 1}]}}');
INSERT INTO "playlist_tracks" VALUES('pl-legacy',3,2,3,'unexpected','{"kind": "unexpected", "text": "The Skatalites: unexpected", "evidence": {"bridge": [{"artist": "Rancid", "artist_id": 1}, {"artist": "The Skatalites", "artist_id": 2}]}}');
INSERT INTO "playlist_tracks" VALUES('pl-legacy',4,1,2,'popular','{"kind": "popular", "text": "Rancid: popular", "evidence": {"listeners": 1}}');
CREATE TABLE playlists (
        id TEXT PRIMARY KEY,
        listener_id INTEGER REFERENCES listeners(id) ON DELETE CASCADE,
        listener_name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        params TEXT NOT NULL,
        model_id TEXT,
        terms TEXT NOT NULL DEFAULT '{}',
        notes TEXT NOT NULL DEFAULT '[]'
    );
INSERT INTO "playlists" VALUES('pl-legacy',1,'ana','2026-01-02T00:00:00+00:00','{"length": 4, "surprise": 0.25, "seed": 7, "personalised": true}','m-1','{"surprise": 0.3}','["one note"]');
CREATE TABLE tags (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
INSERT INTO "tags" VALUES(1,'street punk');
INSERT INTO "tags" VALUES(2,'ska');
CREATE TABLE terms (
        listener_id INTEGER PRIMARY KEY REFERENCES listeners(id) ON DELETE CASCADE,
        surprise REAL,
        half_life_days REAL,
        no_repeat_days INTEGER,
        personalise INTEGER,
        exclude_artists TEXT NOT NULL DEFAULT '[]',
        exclude_tags TEXT NOT NULL DEFAULT '[]',
        ignore_sources TEXT NOT NULL DEFAULT '[]',
        updated_at TEXT NOT NULL
    );
INSERT INTO "terms" VALUES(1,0.3,14.0,3,1,'["Bad Religion"]','[]','["spotify"]','2026-12-01T09:42:09+00:00');
CREATE TABLE tracks (
        id INTEGER PRIMARY KEY,
        artist_id INTEGER NOT NULL REFERENCES artists(id),
        title TEXT NOT NULL,
        key TEXT NOT NULL,
        album TEXT,
        duration_ms INTEGER,
        mbid TEXT,
        UNIQUE (artist_id, key)
    );
INSERT INTO "tracks" VALUES(1,1,'Ruby Soho','ruby soho','...And Out Come the Wolves',158000,NULL);
INSERT INTO "tracks" VALUES(2,1,'Time Bomb','time bomb',NULL,NULL,NULL);
INSERT INTO "tracks" VALUES(3,2,'Guns of Navarone','guns of navarone',NULL,NULL,NULL);
INSERT INTO "tracks" VALUES(4,3,'Generator','generator',NULL,NULL,NULL);
INSERT INTO "tracks" VALUES(5,1,'Fall Back Down','fall back down',NULL,NULL,NULL);
CREATE TABLE verdicts (
        id INTEGER PRIMARY KEY,
        playlist_id TEXT NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
        position INTEGER,
        verdict TEXT NOT NULL CHECK (verdict IN ('approve', 'reject', 'flag')),
        note TEXT,
        curator TEXT,
        created_at TEXT NOT NULL
    , subject TEXT NOT NULL DEFAULT 'track'
        CHECK (subject IN ('playlist', 'track', 'reason')), link_from INTEGER REFERENCES artists(id), link_to INTEGER REFERENCES artists(id));
INSERT INTO "verdicts" VALUES(1,'pl-legacy',NULL,'approve',NULL,'cat','2026-01-03T00:00:00+00:00','playlist',NULL,NULL);
INSERT INTO "verdicts" VALUES(2,'pl-legacy',1,'reject','heard it','cat','2026-01-03T00:01:00+00:00','track',NULL,NULL);
INSERT INTO "verdicts" VALUES(3,'pl-legacy',2,'flag','fair?','cat','2026-01-03T00:02:00+00:00','reason',1,3);
CREATE INDEX listens_listener_time ON listens (listener_id, listened_at);
CREATE INDEX listens_artist ON listens (artist_id);
CREATE INDEX artist_tags_tag ON artist_tags (tag_id);
CREATE INDEX verdicts_playlist ON verdicts (playlist_id, position);
PRAGMA user_version = 2;
