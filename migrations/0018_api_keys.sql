-- API keys of sending systems. Only the SHA-256 of a key is kept (the key is shown once, when
-- made); `prefix` is its visible id. A key is never deleted, only revoked, so the audit log and
-- the ledger's actor ids keep naming something.
CREATE TABLE api_keys (
    id            {id},
    prefix        TEXT NOT NULL UNIQUE,
    key_hash      {bytes} NOT NULL,
    name          TEXT NOT NULL,
    -- Comma-separated: decide, read, write, links.
    scopes        TEXT NOT NULL,
    -- Set: the key sees and changes only this profile's contacts.
    profile_id    {int} REFERENCES compliance_profiles(id),
    created_at    {ts} NOT NULL,
    created_by    TEXT NOT NULL,
    revoked_at    {ts},
    last_used_at  {ts}
);
