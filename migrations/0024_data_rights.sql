-- A contact's data rights (GDPR Art. 15 and 20: a copy of their data; Art. 17: to be
-- forgotten), asked from the public pages or started by staff on the desk, and a child's
-- custodian asked to confirm the child's opt-ins.

-- One request and where it stands. The contact's address is not copied here (the mail goes to
-- the contact point, rendered when sent); after an erasure the row stays as the log of what was
-- asked and done, naming nobody.
CREATE TABLE data_requests (
    id                {id},
    contact_id        {int} NOT NULL REFERENCES contacts(id),
    -- Where the emailed link goes: the address the request came from.
    contact_point_id  {int} NOT NULL REFERENCES contact_points(id),
    kind              TEXT NOT NULL CHECK (kind IN ('access', 'erasure')),
    -- open: waiting for the contact (an erasure to be confirmed from the emailed link; an
    -- access request until its link is mailed); awaiting_approval: an erasure staff started,
    -- carried out when an admin approves it or the contact confirms it; fulfilled; withdrawn.
    status            TEXT NOT NULL
                      CHECK (status IN ('open', 'awaiting_approval', 'fulfilled', 'withdrawn')),
    -- 'contact', or 'user:{id}' for staff.
    requested_by      TEXT NOT NULL,
    -- The language the email and its pages are in: the page's the contact asked from, else
    -- the contact's.
    language          TEXT NOT NULL,
    created_at        {ts} NOT NULL,
    -- The deadline the law gives (a setting: 30 days unless configured).
    due_at            {ts} NOT NULL,
    closed_at         {ts}
);
CREATE INDEX data_requests_contact ON data_requests (contact_id, created_at);
CREATE INDEX data_requests_due ON data_requests (due_at) WHERE closed_at IS NULL;

-- Everything that happened to a request: asked, mailed, downloaded, confirmed, approved,
-- erased, withdrawn; who and from where. Erasure empties ip and user_agent of the contact's
-- own events (the log of what was done stays).
CREATE TABLE data_request_events (
    id          {id},
    request_id  {int} NOT NULL REFERENCES data_requests(id),
    at          {ts} NOT NULL,
    event       TEXT NOT NULL,
    actor       TEXT NOT NULL,
    ip          TEXT,
    user_agent  TEXT
);
CREATE INDEX data_request_events_request ON data_request_events (request_id, id);

-- The emailed links: only the hash is kept; each works until it expires (and not at all once
-- the contact is erased).
CREATE TABLE data_request_tokens (
    token_hash  {bytes} PRIMARY KEY,
    request_id  {int} NOT NULL REFERENCES data_requests(id),
    message_id  TEXT NOT NULL,
    issued_at   {ts} NOT NULL,
    expires_at  {ts} NOT NULL
);
CREATE INDEX data_request_tokens_request ON data_request_tokens (request_id);

-- A child's opt-ins are confirmed by the custodian: the request's email goes to the
-- custodian's address, and the confirmation is recorded as the custodian's.
ALTER TABLE opt_in_requests ADD COLUMN custodian_point_id {int} REFERENCES contact_points(id);

-- What staff changed of a contact's profile (consent level, child, custodian, tracking), who,
-- how they were told and why. The justification is personal evidence: erasure empties it.
CREATE TABLE contact_changes (
    id             {id},
    contact_id     {int} NOT NULL REFERENCES contacts(id),
    at             {ts} NOT NULL,
    field          TEXT NOT NULL CHECK (field IN ('consent_level', 'child', 'custodian', 'tracking')),
    old_value      TEXT,
    new_value      TEXT,
    actor_id       TEXT NOT NULL,
    source         TEXT NOT NULL,
    justification  TEXT,
    -- The action it was part of: the notice that tells the contact names it.
    change_id      TEXT NOT NULL
);
CREATE INDEX contact_changes_contact ON contact_changes (contact_id, id);
CREATE INDEX contact_changes_change ON contact_changes (change_id);

-- The desk's search checks a contact's other words through this index: with the term in it, the
-- check reads the index alone (one contact's few terms) instead of each term's row.
DROP INDEX contact_terms_by_contact;
CREATE INDEX contact_terms_by_contact ON contact_terms (contact_id, term);

-- A webhook endpoint's secret can be rotated: for a while the messages carry a signature under
-- the previous secret too, so receivers switch over without missing one.
ALTER TABLE webhook_endpoints ADD COLUMN previous_salt {bytes};
ALTER TABLE webhook_endpoints ADD COLUMN previous_until {ts};

-- The outbox's mail about a data request (the download link, or the link to confirm an
-- erasure) names the request.
--@ sqlite
CREATE TABLE outbox_next (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL
                      CHECK (kind IN ('confirm', 'reminder', 'invite', 'notice', 'request')),
    contact_point_id  INTEGER REFERENCES contact_points(id),
    request_id        INTEGER REFERENCES opt_in_requests(id),
    user_id           INTEGER,
    message_id        TEXT NOT NULL UNIQUE,
    created_at        TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'sent', 'dead', 'cancelled')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT NOT NULL,
    lease_until       TEXT,
    lease_owner       TEXT,
    last_error        TEXT,
    finished_at       TEXT,
    change_id         TEXT,
    data_request_id   INTEGER REFERENCES data_requests(id),
    CHECK ((kind = 'invite') = (user_id IS NOT NULL AND contact_point_id IS NULL)),
    CHECK ((kind = 'notice') = (change_id IS NOT NULL)),
    CHECK ((kind = 'request') = (data_request_id IS NOT NULL))
);
INSERT INTO outbox_next (id, kind, contact_point_id, request_id, user_id, message_id, created_at,
                         status, attempts, next_attempt_at, lease_until, lease_owner, last_error,
                         finished_at, change_id)
    SELECT id, kind, contact_point_id, request_id, user_id, message_id, created_at, status,
           attempts, next_attempt_at, lease_until, lease_owner, last_error, finished_at, change_id
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_next RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX outbox_point ON outbox (contact_point_id, created_at);
--@ postgres
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('confirm', 'reminder', 'invite', 'notice', 'request'));
ALTER TABLE outbox ADD COLUMN data_request_id BIGINT REFERENCES data_requests(id);
ALTER TABLE outbox ADD CONSTRAINT outbox_request_check
    CHECK ((kind = 'request') = (data_request_id IS NOT NULL));
--@ end
