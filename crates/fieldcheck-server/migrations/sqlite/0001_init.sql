-- FieldCheck server schema, version 1 (SQLite).
--
-- Written in the subset of SQL that PostgreSQL shares, so a `migrations-postgres/0001_init.sql` can
-- follow almost line by line: ids and times are TEXT (UUID strings, RFC 3339 UTC), record bodies are
-- JSON text (JSONB there), and the change sequence is the only auto-numbered column (BIGSERIAL there).

-- Organisational units (brigades, sections). Visibility of records is per unit.
CREATE TABLE units (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('inspector', 'supervisor', 'admin')),
    unit_id       TEXT NOT NULL REFERENCES units (id),
    cert_no       TEXT,
    -- Argon2id in PHC string form: algorithm, parameters and salt travel with the hash.
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- Bearer tokens. Only the SHA-256 of a token is stored, so a copy of the database cannot log anyone in.
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX tokens_user ON tokens (user_id);

-- The append-only change log: the audit trail (who, when, which device, what) and the source of the
-- server-wide change sequence that pull cursors point into. Rows are never updated or deleted.
-- `user_id` is NULL only for changes the server made itself (demo data); `device_id` and `op_id` are
-- NULL for changes made on the server (reviews, demo data) rather than pushed from a phone.
CREATE TABLE changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    entity    TEXT NOT NULL,
    id        TEXT NOT NULL,
    rev       INTEGER NOT NULL,
    unit_id   TEXT NOT NULL,
    user_id   TEXT REFERENCES users (id),
    device_id TEXT,
    op_id     TEXT,
    at        TEXT NOT NULL,
    body      TEXT NOT NULL
);
CREATE INDEX changes_record ON changes (entity, id);

-- The current copy of every synced record. `seq` is the seq of the change that produced this rev, so
-- "records with seq > cursor" is exactly "records changed after the cursor", latest copy only.
CREATE TABLE records (
    entity     TEXT NOT NULL CHECK (entity IN ('venue', 'campaign', 'inspection')),
    id         TEXT NOT NULL,
    unit_id    TEXT NOT NULL,
    rev        INTEGER NOT NULL CHECK (rev >= 1),
    body       TEXT NOT NULL,
    seq        INTEGER NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (entity, id)
);
CREATE INDEX records_unit_seq ON records (unit_id, seq);

-- Every applied phone mutation by op_id, with the rev it produced: a replay answers `duplicate`.
CREATE TABLE ops (
    op_id     TEXT PRIMARY KEY,
    entity    TEXT NOT NULL,
    id        TEXT NOT NULL,
    rev       INTEGER NOT NULL,
    user_id   TEXT NOT NULL REFERENCES users (id),
    device_id TEXT NOT NULL,
    at        TEXT NOT NULL
);
