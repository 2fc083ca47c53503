-- An empty schema-1 store as tastemaker c1fd66a created it (see tests/legacy_stores.py).
CREATE TABLE artist_external_ids (
        source TEXT NOT NULL,
        external_id TEXT NOT NULL,
        artist_id INTEGER NOT NULL REFERENCES artists(id),
        PRIMARY KEY (source, external_id)
    );
CREATE TABLE artist_tags (
        artist_id INTEGER NOT NULL REFERENCES artists(id),
        tag_id INTEGER NOT NULL REFERENCES tags(id),
        source TEXT NOT NULL,
        count INTEGER NOT NULL CHECK (count > 0),
        PRIMARY KEY (artist_id, tag_id, source)
    );
CREATE TABLE artists (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        key TEXT NOT NULL UNIQUE,
        mbid TEXT
    );
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
CREATE TABLE listeners (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );
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
CREATE TABLE models (
        id TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        created_at TEXT NOT NULL,
        data_fingerprint TEXT NOT NULL,
        params TEXT NOT NULL,
        stale INTEGER NOT NULL DEFAULT 0,
        stale_reason TEXT
    );
CREATE TABLE playlist_tracks (
        playlist_id TEXT NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        artist_id INTEGER NOT NULL REFERENCES artists(id),
        track_id INTEGER REFERENCES tracks(id),
        kind TEXT NOT NULL CHECK (kind IN ('familiar', 'discovery', 'unexpected', 'popular')),
        reason TEXT NOT NULL,
        PRIMARY KEY (playlist_id, position)
    );
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
CREATE TABLE tags (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
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
CREATE TABLE verdicts (
        id INTEGER PRIMARY KEY,
        playlist_id TEXT NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
        position INTEGER,
        verdict TEXT NOT NULL CHECK (verdict IN ('approve', 'reject', 'flag')),
        note TEXT,
        curator TEXT,
        created_at TEXT NOT NULL
    );
CREATE INDEX listens_listener_time ON listens (listener_id, listened_at);
CREATE INDEX listens_artist ON listens (artist_id);
CREATE INDEX artist_tags_tag ON artist_tags (tag_id);
PRAGMA user_version = 1;
