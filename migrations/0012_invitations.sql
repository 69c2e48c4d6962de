-- Invitations to the console: an admin names an address and a role, the user row is created
-- without a password, and an invitation email goes through the outbox. The outbox so far
-- carried only mail to contact points; an invitation goes to a console user instead, so a row
-- names exactly one of the two (the kind says which).
--@ sqlite
CREATE TABLE outbox_next (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('confirm', 'reminder', 'invite')),
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
    CHECK ((kind = 'invite') = (user_id IS NOT NULL AND contact_point_id IS NULL))
);
INSERT INTO outbox_next (id, kind, contact_point_id, request_id, message_id, created_at, status,
                         attempts, next_attempt_at, lease_until, lease_owner, last_error, finished_at)
    SELECT id, kind, contact_point_id, request_id, message_id, created_at, status,
           attempts, next_attempt_at, lease_until, lease_owner, last_error, finished_at
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_next RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX outbox_point ON outbox (contact_point_id, created_at);
--@ postgres
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ALTER COLUMN contact_point_id DROP NOT NULL;
ALTER TABLE outbox ADD COLUMN user_id BIGINT;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('confirm', 'reminder', 'invite'));
ALTER TABLE outbox ADD CONSTRAINT outbox_recipient_check
    CHECK ((kind = 'invite') = (user_id IS NOT NULL AND contact_point_id IS NULL));
--@ end

-- Who invited a user (an audit entry says it too; this is what the users page shows).
ALTER TABLE users ADD COLUMN invited_by TEXT;

-- Invitation links: only the hash is stored, its own hash domain (never a contact's link).
-- Each invitation email (and each resend) carries a fresh token minted when it is sent; all of
-- a user's tokens go when the invitation is accepted or the user is deleted.
CREATE TABLE invite_tokens (
    token_hash  {bytes} PRIMARY KEY,
    user_id     {int} NOT NULL,
    message_id  TEXT NOT NULL,
    issued_at   {ts} NOT NULL,
    expires_at  {ts} NOT NULL
);
CREATE INDEX invite_tokens_user ON invite_tokens (user_id);
