-- Double opt-in and outgoing mail.

-- Who a profile's emails come from (confirmation requests now; every later email too).
ALTER TABLE compliance_profiles ADD COLUMN sender_name TEXT;
ALTER TABLE compliance_profiles ADD COLUMN sender_address TEXT;
ALTER TABLE compliance_profiles ADD COLUMN reply_to TEXT;

-- When each state was set, so expiry (pending opt-ins now, CASL's implied consent later) is
-- found through an index instead of a scan of the ledger. Rows written before this migration
-- take the time of the ledger record they rest on. The index is partial: only the states that
-- can expire are in it, so the one-click path (opt-outs) maintains no extra index entry.
ALTER TABLE consent_states ADD COLUMN set_at {ts};
UPDATE consent_states SET set_at = (
    SELECT occurred_at FROM consent_ledger l WHERE l.seq = consent_states.ledger_seq
);
CREATE INDEX consent_states_pending_since ON consent_states (set_at) WHERE value = 'pending';

-- One open request to confirm opt-ins per contact point: the (topic, channel) pairs waiting
-- for confirmation, each with the value it had before it became pending (what expiry or a
-- declined item goes back to). Closed once confirmed, expired or withdrawn; kept as evidence.
CREATE TABLE opt_in_requests (
    id                {id},
    contact_point_id  {int} NOT NULL REFERENCES contact_points(id),
    -- "t12.email=not_set t14.sms=opted_out" (domain::optin::PendingItems).
    items             TEXT NOT NULL,
    -- The language the request was made in: the email and the confirm page use it.
    language          TEXT NOT NULL,
    created_at        {ts} NOT NULL,
    expires_at        {ts} NOT NULL,
    -- NULL: no reminder (already sent, or none wanted).
    remind_at         {ts},
    reminded_at       {ts},
    closed_at         {ts},
    outcome           TEXT CHECK (outcome IN ('confirmed', 'expired', 'withdrawn')),
    -- The ledger change that confirmed it (what "already confirmed" shows).
    confirm_change_id TEXT
);
CREATE UNIQUE INDEX opt_in_requests_open ON opt_in_requests (contact_point_id) WHERE closed_at IS NULL;
CREATE INDEX opt_in_requests_expiry ON opt_in_requests (expires_at) WHERE closed_at IS NULL;
CREATE INDEX opt_in_requests_remind ON opt_in_requests (remind_at) WHERE closed_at IS NULL;

-- Confirm-link tokens: their own table and their own hash domain, so a confirm link can never
-- act as an unsubscribe link or the reverse. Only the hash is stored; each email (and each
-- resend of one) carries a fresh token, minted when the message is claimed for sending.
CREATE TABLE confirm_tokens (
    token_hash  {bytes} PRIMARY KEY,
    request_id  {int} NOT NULL REFERENCES opt_in_requests(id),
    -- The email that carried it: the confirmation record names it as evidence.
    message_id  TEXT NOT NULL,
    issued_at   {ts} NOT NULL
);
CREATE INDEX confirm_tokens_request ON confirm_tokens (request_id);

-- The transactional outbox: an email is a row written in the same transaction as the change
-- that causes it. No address or text is copied here: the worker renders the message when it
-- sends it, from the contact point (so an erased address is never sent to) and the request.
CREATE TABLE outbox (
    id                {id},
    kind              TEXT NOT NULL CHECK (kind IN ('confirm', 'reminder')),
    contact_point_id  {int} NOT NULL REFERENCES contact_points(id),
    request_id        {int} REFERENCES opt_in_requests(id),
    -- Stable across retries and restarts: a resend is recognisably the same message.
    message_id        TEXT NOT NULL UNIQUE,
    created_at        {ts} NOT NULL,
    status            TEXT NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'sent', 'dead', 'cancelled')),
    attempts          {int} NOT NULL DEFAULT 0,
    next_attempt_at   {ts} NOT NULL,
    -- A claimed row is leased to one worker until this time; a dead worker's lease runs out.
    lease_until       {ts},
    lease_owner       TEXT,
    last_error        TEXT,
    finished_at       {ts}
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX outbox_point ON outbox (contact_point_id, created_at);

-- The confirmation evidence of a record: the Message-ID of the email whose link was used.
-- Part of the record's hash when present (records without it hash as before).
ALTER TABLE consent_ledger ADD COLUMN confirmation TEXT;
