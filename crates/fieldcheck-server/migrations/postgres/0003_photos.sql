-- Version 3 (PostgreSQL), as `../sqlite/0003_photos.sql`: photos and signatures.
--
-- The bytes live in the object store (a folder under the data directory, or a bucket), named by
-- their SHA-256; the database keeps what is known about each object and which records name it.
-- A photo is uploaded before the record that names it, so a row here with no reference is normal for
-- a while; one that stays unreferenced past the grace period is collected (row first, then object).

CREATE TABLE photos (
    -- 64 lowercase hex digits: the SHA-256 of the bytes, and the object's name in the store.
    sha256       TEXT PRIMARY KEY,
    size         BIGINT NOT NULL CHECK (size >= 0),
    -- Read from the bytes' signature (image/jpeg or image/png), never from the request.
    content_type TEXT NOT NULL,
    uploaded_by  TEXT NOT NULL REFERENCES users (id),
    uploaded_at  TEXT NOT NULL
);
CREATE INDEX photos_uploaded_at ON photos (uploaded_at);

-- Which inspection names which photo, as of the record's current rev: replaced in the transaction
-- that stores each rev. Who may read a photo follows from the units of the records naming it. A
-- record may name only photos that are on the server, so a referenced row can never be collected.
CREATE TABLE photo_refs (
    sha256        TEXT NOT NULL REFERENCES photos (sha256),
    inspection_id TEXT NOT NULL,
    PRIMARY KEY (sha256, inspection_id)
);
CREATE INDEX photo_refs_inspection ON photo_refs (inspection_id);

-- Everyone who uploaded the bytes (the first, and anyone who sent the same bytes later): an uploader
-- may read the photo and name it in a record before any record names it. Knowing a name is not
-- enough: it is printed on every record handed to the party.
CREATE TABLE photo_uploads (
    sha256      TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (sha256, user_id)
);
