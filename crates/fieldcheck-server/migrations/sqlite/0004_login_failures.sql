-- Version 4: the login throttle's failed attempts, in the database so that every server instance
-- behind a load balancer counts the same failures, and a restart forgets none. Rows older than the
-- throttle's window are deleted as attempts come in; the overall limit caps how many there can be.
CREATE TABLE login_failures (
    id       TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    address  TEXT NOT NULL,
    at       TEXT NOT NULL,
    -- 1 once a success of the same username from the same address forgave it: it no longer counts
    -- for that pair, still for the username, the address and overall.
    forgiven INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX login_failures_at ON login_failures (at);
