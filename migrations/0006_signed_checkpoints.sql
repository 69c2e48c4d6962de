-- The deployment's signing keys: their public halves (each private key is derived from the
-- deployment secret and the key's id, so every instance that holds the secret signs alike).
-- The newest key that is not retired signs; retired keys stay, published, so that what they
-- signed keeps verifying.
CREATE TABLE signing_keys (
    id          TEXT PRIMARY KEY,
    public_key  {bytes} NOT NULL,
    created_at  {ts} NOT NULL,
    retired_at  {ts}
);

-- Signed checkpoints of the ledger head (domain::proof::Checkpoint): record `seq` had hash
-- `hash` when `key_id` signed it at `signed_at`. Written by the writer under the ledger lock,
-- so the checkpoints of every instance form one sequence.
CREATE TABLE ledger_checkpoints (
    id          {id},
    seq         {int} NOT NULL,
    hash        {bytes} NOT NULL,
    signed_at   {ts} NOT NULL,
    key_id      TEXT NOT NULL REFERENCES signing_keys(id),
    signature   {bytes} NOT NULL
);
