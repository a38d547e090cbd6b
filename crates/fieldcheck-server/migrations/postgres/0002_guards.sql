-- Version 2 (PostgreSQL), as `../sqlite/0002_guards.sql`: disabled users, op ids per user with a
-- content hash, tombstones, and the hash-chained audit log; the logs refuse updates and deletes.

ALTER TABLE users ADD COLUMN disabled_at TEXT;

ALTER TABLE ops DROP CONSTRAINT ops_pkey;
ALTER TABLE ops ADD COLUMN content_hash TEXT;
ALTER TABLE ops ADD PRIMARY KEY (user_id, op_id);

CREATE TABLE tombstones (
    entity  TEXT NOT NULL,
    id      TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    rev     BIGINT NOT NULL,
    seq     BIGINT NOT NULL,
    PRIMARY KEY (entity, id, unit_id)
);
CREATE INDEX tombstones_unit_seq ON tombstones (unit_id, seq);

CREATE TABLE audit (
    seq          BIGSERIAL PRIMARY KEY,
    at           TEXT NOT NULL,
    user_id      TEXT,
    device_id    TEXT,
    action       TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    code         TEXT,
    entity       TEXT NOT NULL,
    id           TEXT NOT NULL,
    op_id        TEXT,
    rev          BIGINT,
    content_hash TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the % log is append-only', TG_ARGV[0];
END
$$;
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
    FOR EACH ROW EXECUTE FUNCTION refuse_change('audit');
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION refuse_change('audit');
CREATE TRIGGER changes_append_only_update BEFORE UPDATE ON changes
    FOR EACH ROW EXECUTE FUNCTION refuse_change('change');
CREATE TRIGGER changes_append_only_delete BEFORE DELETE ON changes
    FOR EACH ROW EXECUTE FUNCTION refuse_change('change');
-- TRUNCATE skips row triggers: refuse it too.
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('audit');
CREATE TRIGGER changes_no_truncate BEFORE TRUNCATE ON changes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('change');
