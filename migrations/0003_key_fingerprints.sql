-- The fingerprint of each secret the database was written with (domain::ledger::key_fingerprint),
-- recorded by the first instance that starts on it. An instance whose secret has another
-- fingerprint refuses to start: every instance must sign and digest evidence alike.
CREATE TABLE key_fingerprints (
    name         TEXT PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    recorded_at  {ts} NOT NULL
);
