-- Version 5: a record's text is stored once, in the change log. The current copy (`records`) keeps
-- its unit, rev and seq, and its text is that of the change it names: the one at its seq, of the
-- same record, unit and rev (the server reads them joined). Writing every text twice took about a
-- fifth of the time of many phones pushing at once.
--
-- A current copy whose own text differs from the change it names (edited behind the server's back,
-- and perhaps handed to phones so) is not lost: its text and rev are kept in `unrepaired_texts` until
-- `fieldcheck-server records repair` writes the record again from its latest change as a new rev,
-- which every phone pulls, and keeps the text in a file as it does for any copy it replaces.
-- Every server instance must be stopped before the first one starts on this version.
CREATE TABLE unrepaired_texts (
    entity TEXT NOT NULL,
    id     TEXT NOT NULL,
    rev    INTEGER NOT NULL,
    body   TEXT NOT NULL,
    PRIMARY KEY (entity, id)
);
INSERT INTO unrepaired_texts (entity, id, rev, body)
    SELECT r.entity, r.id, r.rev, r.body FROM records r
    LEFT JOIN changes c ON c.seq = r.seq AND c.entity = r.entity AND c.id = r.id
        AND c.unit_id = r.unit_id AND c.rev = r.rev
    WHERE c.seq IS NULL OR c.body <> r.body;
ALTER TABLE records DROP COLUMN body;
