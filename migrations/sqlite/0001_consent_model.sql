-- The consent model of PRODUCT.md. Timestamps are UTC RFC 3339 text with microseconds, which
-- sort as they read and map to timestamptz on PostgreSQL later. Booleans are 0/1 integers.

-- One brand or region: its purposes, topics, brand and legal footer.
CREATE TABLE compliance_profiles (
    id              INTEGER PRIMARY KEY,
    key             TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    brand_primary   TEXT NOT NULL DEFAULT '#0b5cad',
    footer_address  TEXT NOT NULL,
    privacy_url     TEXT,
    default_locale  TEXT NOT NULL DEFAULT 'en',
    -- The version of the preference form the pages show; recorded in every change as evidence.
    form_version    INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL
);

-- Why the organization contacts people. Retired, never deleted: consent was recorded against it.
CREATE TABLE purposes (
    id                 INTEGER PRIMARY KEY,
    profile_id         INTEGER NOT NULL REFERENCES compliance_profiles(id),
    key                TEXT NOT NULL,
    name               TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    enforcement        TEXT NOT NULL CHECK (enforcement IN ('restrictive', 'non_restrictive', 'disabled')),
    -- Comma-separated channel names: email, sms, phone.
    channels           TEXT NOT NULL,
    -- Transactional/service purposes: shown, not unsubscribable.
    mandatory          INTEGER NOT NULL DEFAULT 0 CHECK (mandatory IN (0, 1)),
    min_consent_level  INTEGER NOT NULL DEFAULT 0 CHECK (min_consent_level BETWEEN 0 AND 5),
    position           INTEGER NOT NULL DEFAULT 0,
    retired_at         TEXT,
    UNIQUE (profile_id, key)
);

-- A finer category inside a purpose.
CREATE TABLE topics (
    id           INTEGER PRIMARY KEY,
    purpose_id   INTEGER NOT NULL REFERENCES purposes(id),
    key          TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    position     INTEGER NOT NULL DEFAULT 0,
    retired_at   TEXT,
    UNIQUE (purpose_id, key)
);

-- A person.
CREATE TABLE contacts (
    id                    INTEGER PRIMARY KEY,
    profile_id            INTEGER NOT NULL REFERENCES compliance_profiles(id),
    locale                TEXT,
    consent_level         INTEGER NOT NULL DEFAULT 0 CHECK (consent_level BETWEEN 0 AND 5),
    is_child              INTEGER NOT NULL DEFAULT 0 CHECK (is_child IN (0, 1)),
    custodian_contact_id  INTEGER REFERENCES contacts(id),
    tracking_allowed      INTEGER NOT NULL DEFAULT 0 CHECK (tracking_allowed IN (0, 1)),
    -- Set when erased or globally suppressed: nothing is sent.
    suppressed_at         TEXT,
    created_at            TEXT NOT NULL
);

-- An email address or phone number of a contact. Consent is recorded per contact point.
CREATE TABLE contact_points (
    id          INTEGER PRIMARY KEY,
    contact_id  INTEGER NOT NULL REFERENCES contacts(id),
    kind        TEXT NOT NULL CHECK (kind IN ('email', 'phone')),
    -- Normalised (EmailAddress / PhoneNumber); NULL once erased.
    address     TEXT,
    created_at  TEXT NOT NULL,
    UNIQUE (kind, address)
);
CREATE INDEX contact_points_contact ON contact_points (contact_id);

-- Link tokens: only the SHA-256 of the token is stored. A contact point may hold several
-- (each email carries a fresh one); each expires on its own.
CREATE TABLE link_tokens (
    token_hash        BLOB PRIMARY KEY,
    contact_point_id  INTEGER NOT NULL REFERENCES contact_points(id),
    issued_at         TEXT NOT NULL,
    expires_at        TEXT NOT NULL
);
CREATE INDEX link_tokens_point ON link_tokens (contact_point_id);

-- The ledger: append-only, hash-chained. seq is assigned by the single writer, gap-free.
CREATE TABLE consent_ledger (
    seq                  INTEGER PRIMARY KEY,
    occurred_at          TEXT NOT NULL,
    contact_point_id     INTEGER NOT NULL REFERENCES contact_points(id),
    subject_kind         TEXT NOT NULL CHECK (subject_kind IN ('purpose', 'topic')),
    subject_id           INTEGER NOT NULL,
    channel              TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'phone')),
    old_value            TEXT NOT NULL,
    new_value            TEXT NOT NULL,
    custodian_confirmed  INTEGER NOT NULL DEFAULT 0,
    actor_kind           TEXT NOT NULL,
    actor_id             TEXT,
    source               TEXT NOT NULL,
    -- Groups the records of one action; time-ordered (what the undo link names).
    change_id            TEXT NOT NULL,
    form_version         INTEGER,
    language             TEXT,
    request_id           TEXT,
    -- HMAC of the personal evidence (ledger_evidence), so erasure keeps the chain verifiable.
    evidence_digest      BLOB NOT NULL,
    prev_hash            BLOB NOT NULL,
    hash                 BLOB NOT NULL
);
CREATE INDEX consent_ledger_point ON consent_ledger (contact_point_id, seq);
CREATE INDEX consent_ledger_change ON consent_ledger (change_id);

-- The database itself refuses to edit or remove a ledger record.
CREATE TRIGGER consent_ledger_no_update BEFORE UPDATE ON consent_ledger
BEGIN
    SELECT RAISE(ABORT, 'consent_ledger is append-only');
END;
CREATE TRIGGER consent_ledger_no_delete BEFORE DELETE ON consent_ledger
BEGIN
    SELECT RAISE(ABORT, 'consent_ledger is append-only');
END;

-- Personal evidence of one action (shared by the records it produced); erasure deletes these
-- rows, the digests in the ledger stay.
CREATE TABLE ledger_evidence (
    change_id      TEXT PRIMARY KEY,
    justification  TEXT,
    ip             TEXT,
    user_agent     TEXT
);

-- Current consent state: a projection of the ledger, written in the same transaction.
CREATE TABLE consent_states (
    contact_point_id     INTEGER NOT NULL REFERENCES contact_points(id),
    subject_kind         TEXT NOT NULL,
    subject_id           INTEGER NOT NULL,
    channel              TEXT NOT NULL,
    value                TEXT NOT NULL,
    custodian_confirmed  INTEGER NOT NULL DEFAULT 0,
    ledger_seq           INTEGER NOT NULL REFERENCES consent_ledger(seq),
    PRIMARY KEY (contact_point_id, subject_kind, subject_id, channel)
);
