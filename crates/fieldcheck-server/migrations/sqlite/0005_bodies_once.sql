-- Version 5: a record's text is stored once, in the change log. The current copy (`records`) keeps
-- its unit, rev and seq; its text is the change at that seq (the server reads them joined). Writing
-- every body twice took about a fifth of the time of many phones pushing at once.
--
-- A current copy whose text had been edited behind the server's back (which `fieldcheck-server
-- records check` names) reads as its change from now on; run `records repair` before this version
-- for phones to be sent the change again as a new rev.
ALTER TABLE records DROP COLUMN body;
