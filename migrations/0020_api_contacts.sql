-- Whether opt-ins a sending system records through the API with its own confirmation (its
-- own double opt-in) are trusted as confirmed; otherwise they go through this server's.
ALTER TABLE compliance_profiles ADD COLUMN trust_api_confirmation {bool} NOT NULL DEFAULT {false};

-- Idempotency keys of API writes: the outcome of the first call with a key (JSON) is answered
-- again to every repeat of the same request (a different request with the same key is refused).
-- Kept a day; the outcome names an address, so a contact's rows go with its erasure.
CREATE TABLE api_idempotency (
    api_key_id    {int} NOT NULL REFERENCES api_keys(id),
    idem_key      TEXT NOT NULL,
    request_hash  {bytes} NOT NULL,
    outcome       TEXT NOT NULL,
    contact_id    {int},
    created_at    {ts} NOT NULL,
    PRIMARY KEY (api_key_id, idem_key)
);
CREATE INDEX api_idempotency_contact ON api_idempotency (contact_id);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);
