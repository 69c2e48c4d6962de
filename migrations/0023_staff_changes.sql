-- Consent staff record (by phone, in person, on paper) is told to the contact by email: an
-- outbox row of the kind 'notice' names the change (its change_id: the ledger records it
-- made), rendered when sent. Whether an opt-in staff record is trusted with that notice alone or
-- needs the contact's double opt-in is the profile's choice (double opt-in unless ticked).
ALTER TABLE compliance_profiles ADD COLUMN trust_staff_opt_ins {bool} NOT NULL DEFAULT {false};

--@ sqlite
CREATE TABLE outbox_next (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('confirm', 'reminder', 'invite', 'notice')),
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
    CHECK ((kind = 'invite') = (user_id IS NOT NULL AND contact_point_id IS NULL)),
    CHECK ((kind = 'notice') = (change_id IS NOT NULL))
);
INSERT INTO outbox_next (id, kind, contact_point_id, request_id, user_id, message_id, created_at,
                         status, attempts, next_attempt_at, lease_until, lease_owner, last_error,
                         finished_at)
    SELECT id, kind, contact_point_id, request_id, user_id, message_id, created_at, status,
           attempts, next_attempt_at, lease_until, lease_owner, last_error, finished_at
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_next RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX outbox_point ON outbox (contact_point_id, created_at);
--@ postgres
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('confirm', 'reminder', 'invite', 'notice'));
ALTER TABLE outbox ADD COLUMN change_id TEXT;
ALTER TABLE outbox ADD CONSTRAINT outbox_notice_check CHECK ((kind = 'notice') = (change_id IS NOT NULL));
--@ end
