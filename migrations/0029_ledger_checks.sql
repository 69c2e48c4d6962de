-- SQLite: the ledger's CHECKs on its subject's kind and its channel written as comparisons
-- joined by OR, the same rule. SQLite checks `x IN (three or more values)` by building a
-- temporary B-tree of the values, and in a CHECK it builds it again for every row written: two
-- B-trees opened, filled and closed per ledger record, about a sixth of an import's CPU. SQLite
-- cannot change a CHECK in place: the table is rebuilt, records unchanged. PostgreSQL checks
-- a list without building anything: unchanged.
--@ sqlite
DROP TRIGGER consent_ledger_no_update;
DROP TRIGGER consent_ledger_no_delete;
CREATE TABLE consent_ledger_next (
    seq                  INTEGER PRIMARY KEY,
    occurred_at          TEXT NOT NULL,
    contact_point_id     INTEGER NOT NULL REFERENCES contact_points(id),
    subject_kind         TEXT NOT NULL
                         CHECK (subject_kind = 'purpose' OR subject_kind = 'topic'
                                OR subject_kind = 'profile' OR subject_kind = 'erasure'),
    subject_id           INTEGER NOT NULL,
    channel              TEXT NOT NULL
                         CHECK (channel = 'email' OR channel = 'sms' OR channel = 'phone'),
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
           evidence_key, fact_old, fact_new
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
SELECT 1;
--@ end
