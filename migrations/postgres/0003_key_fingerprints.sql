-- PostgreSQL dialect of migrations/sqlite/0003.
CREATE TABLE key_fingerprints (
    name         TEXT PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL
);
