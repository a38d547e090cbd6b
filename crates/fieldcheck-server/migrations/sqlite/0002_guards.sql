-- Version 2: the server guards the record.
--
-- * users can be disabled (their tokens stop working; they can no longer be named on records);
-- * an op id belongs to one user and one mutation (entity, id and a hash of its content), so a replay
--   is recognised as the same mutation and a reused op id is refused instead of answered `duplicate`;
-- * records that leave a unit leave a tombstone for that unit's phones;
-- * the audit log: every accepted change and every refused attempt, hash-chained, append-only.

ALTER TABLE users ADD COLUMN disabled_at TEXT;

-- Op ids are scoped per user: another user's op id is never even looked at, so nobody can probe
-- whether an op id exists. Rows from version 1 have no content hash (NULL): their replays are still
-- recognised by user, entity and id.
CREATE TABLE ops_v2 (
    user_id      TEXT NOT NULL REFERENCES users (id),
    op_id        TEXT NOT NULL,
    entity       TEXT NOT NULL,
    id           TEXT NOT NULL,
    rev          INTEGER NOT NULL,
    content_hash TEXT,
    device_id    TEXT NOT NULL,
    at           TEXT NOT NULL,
    PRIMARY KEY (user_id, op_id)
);
INSERT INTO ops_v2 (user_id, op_id, entity, id, rev, content_hash, device_id, at)
    SELECT user_id, op_id, entity, id, rev, NULL, device_id, at FROM ops;
DROP TABLE ops;
ALTER TABLE ops_v2 RENAME TO ops;

-- A record that moved out of a unit: that unit's phones pull a tombstone (at the seq of the change
-- that moved it) and drop their copy. Removed again if the record comes back to the unit.
CREATE TABLE tombstones (
    entity  TEXT NOT NULL,
    id      TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    rev     INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (entity, id, unit_id)
);
CREATE INDEX tombstones_unit_seq ON tombstones (unit_id, seq);

-- The audit chain. `hash` is the SHA-256 of this row's fields and `prev_hash` (the previous row's
-- hash; 64 zeros for the first), so a changed, removed or inserted row breaks the chain at that point;
-- `fieldcheck-server audit verify` names the first broken row. `content_hash` is the SHA-256 of the
-- body as sent (pushes) or as stored (reviews).
CREATE TABLE audit (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT NOT NULL,
    user_id      TEXT,
    device_id    TEXT,
    action       TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    code         TEXT,
    entity       TEXT NOT NULL,
    id           TEXT NOT NULL,
    op_id        TEXT,
    rev          INTEGER,
    content_hash TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);

-- Evidence is append-only: the database itself refuses to change or remove a written row.
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER changes_append_only_update BEFORE UPDATE ON changes
BEGIN
    SELECT RAISE(ABORT, 'the change log is append-only');
END;
CREATE TRIGGER changes_append_only_delete BEFORE DELETE ON changes
BEGIN
    SELECT RAISE(ABORT, 'the change log is append-only');
END;
