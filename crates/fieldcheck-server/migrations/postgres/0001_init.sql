-- FieldCheck server schema, version 1 (PostgreSQL): the same tables as `../sqlite/0001_init.sql`, in
-- the same order. Ids and times are TEXT (UUID strings, RFC 3339 UTC, so text order is time order),
-- record bodies are JSON text, every number is BIGINT (the server reads them as 64-bit), and the
-- sequences are BIGSERIAL.

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
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX tokens_user ON tokens (user_id);

-- The append-only change log. Its seq is drawn only under the write lock (an advisory lock every
-- write transaction takes first), so seqs become visible in order and a pull never skips one.
CREATE TABLE changes (
    seq       BIGSERIAL PRIMARY KEY,
    entity    TEXT NOT NULL,
    id        TEXT NOT NULL,
    rev       BIGINT NOT NULL,
    unit_id   TEXT NOT NULL,
    user_id   TEXT REFERENCES users (id),
    device_id TEXT,
    op_id     TEXT,
    at        TEXT NOT NULL,
    body      TEXT NOT NULL
);
CREATE INDEX changes_record ON changes (entity, id);

CREATE TABLE records (
    entity     TEXT NOT NULL CHECK (entity IN ('venue', 'campaign', 'inspection')),
    id         TEXT NOT NULL,
    unit_id    TEXT NOT NULL,
    rev        BIGINT NOT NULL CHECK (rev >= 1),
    body       TEXT NOT NULL,
    seq        BIGINT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (entity, id)
);
CREATE INDEX records_unit_seq ON records (unit_id, seq);

CREATE TABLE ops (
    op_id     TEXT PRIMARY KEY,
    entity    TEXT NOT NULL,
    id        TEXT NOT NULL,
    rev       BIGINT NOT NULL,
    user_id   TEXT NOT NULL REFERENCES users (id),
    device_id TEXT NOT NULL,
    at        TEXT NOT NULL
);
