-- A change of a contact's profile fact (consent level, child, custodian, tracking) is a ledger
-- record like a consent change: chained, with its actor, source and justification (erasable
-- evidence). Its subject is `profile` (subject_id names the fact: 1 level, 2 child,
-- 3 custodian, 4 tracking), its consent values `not_set`, and the fact's values are kept in
-- `fact_old` and `fact_new` (NULL on every other record). It sets no consent state.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt, records unchanged.
-- The rows `contact_changes` held are moved into the ledger when the server next starts (their
-- records need the chain's hashes, which SQL cannot make); the table stays, empty, for that.
--@ sqlite
DROP TRIGGER consent_ledger_no_update;
DROP TRIGGER consent_ledger_no_delete;
CREATE TABLE consent_ledger_next (
    seq                  INTEGER PRIMARY KEY,
    occurred_at          TEXT NOT NULL,
    contact_point_id     INTEGER NOT NULL REFERENCES contact_points(id),
    subject_kind         TEXT NOT NULL
                         CHECK (subject_kind IN ('purpose', 'topic', 'profile', 'erasure')),
    subject_id           INTEGER NOT NULL,
    channel              TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'phone')),
    old_value            TEXT NOT NULL,
    new_value            TEXT NOT NULL,
    custodian_confirmed  INTEGER NOT NULL DEFAULT 0,
    actor_kind           TEXT NOT NULL,
    actor_id             TEXT,
    source               TEXT NOT NULL,
    change_id            TEXT NOT NULL,
    form_version         INTEGER,
    language             TEXT,
    request_id           TEXT,
    evidence_digest      BLOB NOT NULL,
    prev_hash            BLOB NOT NULL,
    hash                 BLOB NOT NULL,
    confirmation         TEXT,
    evidence_key         TEXT,
    fact_old             TEXT,
    fact_new             TEXT
);
INSERT INTO consent_ledger_next
    SELECT seq, occurred_at, contact_point_id, subject_kind, subject_id, channel, old_value,
           new_value, custodian_confirmed, actor_kind, actor_id, source, change_id,
           form_version, language, request_id, evidence_digest, prev_hash, hash, confirmation,
           evidence_key, NULL, NULL
    FROM consent_ledger ORDER BY seq;
DROP TABLE consent_ledger;
ALTER TABLE consent_ledger_next RENAME TO consent_ledger;
CREATE INDEX consent_ledger_point ON consent_ledger (contact_point_id, seq);
CREATE INDEX consent_ledger_change ON consent_ledger (change_id);
CREATE TRIGGER consent_ledger_no_update BEFORE UPDATE ON consent_ledger
BEGIN
    SELECT RAISE(ABORT, 'consent_ledger is append-only');
END;
CREATE TRIGGER consent_ledger_no_delete BEFORE DELETE ON consent_ledger
BEGIN
    SELECT RAISE(ABORT, 'consent_ledger is append-only');
END;
--@ postgres
ALTER TABLE consent_ledger DROP CONSTRAINT consent_ledger_subject_kind_check;
ALTER TABLE consent_ledger ADD CONSTRAINT consent_ledger_subject_kind_check
    CHECK (subject_kind IN ('purpose', 'topic', 'profile', 'erasure'));
ALTER TABLE consent_ledger ADD COLUMN fact_old TEXT;
ALTER TABLE consent_ledger ADD COLUMN fact_new TEXT;
--@ end
