-- The consent model of PRODUCT.md. One source for both databases (store/migrations.rs renders
-- it): {ts} is RFC 3339 text with microseconds on SQLite (it sorts as it reads) and timestamptz
-- on PostgreSQL; {bool} is a 0/1 integer on SQLite and boolean on PostgreSQL; {id} is SQLite's
-- rowid and a bigint identity on PostgreSQL.

-- One brand or region: its purposes, topics, brand and legal footer.
CREATE TABLE compliance_profiles (
    id              {id},
    key             TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    brand_primary   TEXT NOT NULL DEFAULT '#0b5cad',
    footer_address  TEXT NOT NULL,
    privacy_url     TEXT,
    default_locale  TEXT NOT NULL DEFAULT 'en',
    -- The version of the preference form the pages show; recorded in every change as evidence.
    form_version    {int} NOT NULL DEFAULT 1,
    created_at      {ts} NOT NULL
);

-- Why the organization contacts people. Retired, never deleted: consent was recorded against it.
CREATE TABLE purposes (
    id                 {id},
    profile_id         {int} NOT NULL REFERENCES compliance_profiles(id),
    key                TEXT NOT NULL,
    name               TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    enforcement        TEXT NOT NULL CHECK (enforcement IN ('restrictive', 'non_restrictive', 'disabled')),
    -- Comma-separated channel names: email, sms, phone.
    channels           TEXT NOT NULL,
    -- Transactional/service purposes: shown, not unsubscribable.
    mandatory          {bool} NOT NULL DEFAULT {false} CHECK (mandatory IN ({false}, {true})),
    min_consent_level  {int} NOT NULL DEFAULT 0 CHECK (min_consent_level BETWEEN 0 AND 5),
    position           {int} NOT NULL DEFAULT 0,
    retired_at         {ts},
    UNIQUE (profile_id, key)
);

-- A finer category inside a purpose.
CREATE TABLE topics (
    id           {id},
    purpose_id   {int} NOT NULL REFERENCES purposes(id),
    key          TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    position     {int} NOT NULL DEFAULT 0,
    retired_at   {ts},
    UNIQUE (purpose_id, key)
);

-- A person.
CREATE TABLE contacts (
    id                    {id},
    profile_id            {int} NOT NULL REFERENCES compliance_profiles(id),
    locale                TEXT,
    consent_level         {int} NOT NULL DEFAULT 0 CHECK (consent_level BETWEEN 0 AND 5),
    is_child              {bool} NOT NULL DEFAULT {false} CHECK (is_child IN ({false}, {true})),
    custodian_contact_id  {int} REFERENCES contacts(id),
    tracking_allowed      {bool} NOT NULL DEFAULT {false} CHECK (tracking_allowed IN ({false}, {true})),
    -- Set when erased or globally suppressed: nothing is sent.
    suppressed_at         {ts},
    created_at            {ts} NOT NULL
);

-- An email address or phone number of a contact. Consent is recorded per contact point.
CREATE TABLE contact_points (
    id          {id},
    contact_id  {int} NOT NULL REFERENCES contacts(id),
    kind        TEXT NOT NULL CHECK (kind IN ('email', 'phone')),
    -- Normalised (EmailAddress / PhoneNumber); NULL once erased.
    address     TEXT,
    created_at  {ts} NOT NULL,
    UNIQUE (kind, address)
);
CREATE INDEX contact_points_contact ON contact_points (contact_id);

-- Link tokens: only the SHA-256 of the token is stored. A contact point may hold several
-- (each email carries a fresh one); each expires on its own.
CREATE TABLE link_tokens (
    token_hash        {bytes} PRIMARY KEY,
    contact_point_id  {int} NOT NULL REFERENCES contact_points(id),
    issued_at         {ts} NOT NULL,
    expires_at        {ts} NOT NULL
);
CREATE INDEX link_tokens_point ON link_tokens (contact_point_id);

-- The ledger: append-only, hash-chained. seq is assigned by the writer holding the ledger lock
-- (store/backend.rs), gap-free.
CREATE TABLE consent_ledger (
    seq                  {int} PRIMARY KEY,
    occurred_at          {ts} NOT NULL,
    contact_point_id     {int} NOT NULL REFERENCES contact_points(id),
    subject_kind         TEXT NOT NULL CHECK (subject_kind IN ('purpose', 'topic')),
    subject_id           {int} NOT NULL,
    channel              TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'phone')),
    old_value            TEXT NOT NULL,
    new_value            TEXT NOT NULL,
    custodian_confirmed  {bool} NOT NULL DEFAULT {false},
    actor_kind           TEXT NOT NULL,
    actor_id             TEXT,
    source               TEXT NOT NULL,
    -- Groups the records of one action; time-ordered (what the undo link names).
    change_id            TEXT NOT NULL,
    form_version         {int},
    language             TEXT,
    request_id           TEXT,
    -- HMAC of the personal evidence (ledger_evidence), so erasure keeps the chain verifiable.
    evidence_digest      {bytes} NOT NULL,
    prev_hash            {bytes} NOT NULL,
    hash                 {bytes} NOT NULL
);
CREATE INDEX consent_ledger_point ON consent_ledger (contact_point_id, seq);
CREATE INDEX consent_ledger_change ON consent_ledger (change_id);

-- The database itself refuses to edit or remove a ledger record (on PostgreSQL TRUNCATE too;
-- deployments also give the application's role no UPDATE, DELETE or TRUNCATE on it: README).
--@ sqlite
CREATE TRIGGER consent_ledger_no_update BEFORE UPDATE ON consent_ledger
BEGIN
    SELECT RAISE(ABORT, 'consent_ledger is append-only');
END;
CREATE TRIGGER consent_ledger_no_delete BEFORE DELETE ON consent_ledger
BEGIN
    SELECT RAISE(ABORT, 'consent_ledger is append-only');
END;
--@ postgres
CREATE FUNCTION consent_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'consent_ledger is append-only';
END;
$$;
CREATE TRIGGER consent_ledger_no_update BEFORE UPDATE ON consent_ledger
    FOR EACH ROW EXECUTE FUNCTION consent_ledger_append_only();
CREATE TRIGGER consent_ledger_no_delete BEFORE DELETE ON consent_ledger
    FOR EACH ROW EXECUTE FUNCTION consent_ledger_append_only();
CREATE TRIGGER consent_ledger_no_truncate BEFORE TRUNCATE ON consent_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION consent_ledger_append_only();
--@ end

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
    contact_point_id     {int} NOT NULL REFERENCES contact_points(id),
    subject_kind         TEXT NOT NULL,
    subject_id           {int} NOT NULL,
    channel              TEXT NOT NULL,
    value                TEXT NOT NULL,
    custodian_confirmed  {bool} NOT NULL DEFAULT {false},
    ledger_seq           {int} NOT NULL REFERENCES consent_ledger(seq),
    PRIMARY KEY (contact_point_id, subject_kind, subject_id, channel)
);
