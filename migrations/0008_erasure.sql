-- Erasure as a recorded fact, salted evidence digests, and keys that rotate.
--
-- 1. A ledger record can be an erasure (subject_kind 'erasure'): it voids the personal evidence
--    of every earlier record of its contact point, so verification tells evidence erased by
--    that record apart from evidence missing (tampered). Each record names the key its evidence
--    digest is made with (`evidence_key`, a signing key's id; NULL on records written before,
--    digested with the deployment secret itself, and on records without personal evidence).
--    SQLite cannot change a CHECK constraint in place: the table is rebuilt, records unchanged.
--@ sqlite
DROP TRIGGER consent_ledger_no_update;
DROP TRIGGER consent_ledger_no_delete;
CREATE TABLE consent_ledger_next (
    seq                  INTEGER PRIMARY KEY,
    occurred_at          TEXT NOT NULL,
    contact_point_id     INTEGER NOT NULL REFERENCES contact_points(id),
    subject_kind         TEXT NOT NULL CHECK (subject_kind IN ('purpose', 'topic', 'erasure')),
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
    evidence_key         TEXT
);
INSERT INTO consent_ledger_next
    SELECT seq, occurred_at, contact_point_id, subject_kind, subject_id, channel, old_value,
           new_value, custodian_confirmed, actor_kind, actor_id, source, change_id,
           form_version, language, request_id, evidence_digest, prev_hash, hash, confirmation,
           NULL
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
    CHECK (subject_kind IN ('purpose', 'topic', 'erasure'));
ALTER TABLE consent_ledger ADD COLUMN evidence_key TEXT;
--@ end

-- 2. The random salt of an evidence digest, kept with the evidence and erased with it: once
--    erased, a digest cannot be matched against guesses (a truncated IP, a common browser),
--    not even by someone who holds the key. NULL on evidence written before.
ALTER TABLE ledger_evidence ADD COLUMN salt {bytes};

-- 3. The suppression list: a keyed hash (HMAC under a key derived from the deployment secret)
--    of each erased address, never the address. A later sign-up with it sends and records
--    nothing; a later import or API call with it is refused.
CREATE TABLE suppressions (
    address_hash  {bytes} PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('email', 'phone')),
    -- The erasure record that put it here.
    ledger_seq    {int} NOT NULL,
    created_at    {ts} NOT NULL
);
