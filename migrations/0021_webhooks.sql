-- Webhook endpoints (Standard Webhooks). The signing secret is never stored: it is derived
-- from the deployment secret and `secret_salt` (domain::webhook::endpoint_secret), shown once
-- when made; a new salt is a new secret.
CREATE TABLE webhook_endpoints (
    id           {id},
    url          TEXT NOT NULL,
    description  TEXT NOT NULL,
    -- Comma-separated event types: consent.changed, contact.erased.
    events       TEXT NOT NULL,
    -- Set: only this profile's contacts' events.
    profile_id   {int} REFERENCES compliance_profiles(id),
    secret_salt  {bytes} NOT NULL,
    -- Events of ledger records after this one (the ledger's head when the endpoint was made).
    start_seq    {int} NOT NULL,
    created_at   {ts} NOT NULL,
    created_by   TEXT NOT NULL,
    disabled_at  {ts}
);

-- The ledger is the outbox's source: the dispatcher turns every record after `ledger_seq`
-- into deliveries and moves the cursor in the same transaction (nothing lost, nothing twice).
CREATE TABLE webhook_cursor (
    id          {int} PRIMARY KEY CHECK (id = 1),
    ledger_seq  {int} NOT NULL
);

-- One message to one endpoint: queued until delivered (2xx), retried with backoff, failed
-- after the last try; replayable from the console while its payload is kept. Erasing the
-- contact erases the payload. In order per endpoint and contact (a contact's later message
-- waits for the earlier one).
CREATE TABLE webhook_deliveries (
    id               {id},
    endpoint_id      {int} NOT NULL REFERENCES webhook_endpoints(id),
    -- webhook-id: the same for every try of a message (and for every endpoint).
    message_id       TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    contact_id       {int},
    ledger_seq       {int},
    payload          TEXT,
    status           TEXT NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'delivered', 'failed', 'erased')),
    attempts         {int} NOT NULL DEFAULT 0,
    next_attempt_at  {ts} NOT NULL,
    lease_until      {ts},
    lease_owner      TEXT,
    last_error       TEXT,
    last_status      {int},
    created_at       {ts} NOT NULL,
    finished_at      {ts}
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint_id, contact_id, id);
CREATE INDEX webhook_deliveries_contact ON webhook_deliveries (contact_id);
