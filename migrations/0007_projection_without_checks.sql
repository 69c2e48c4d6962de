-- The consent state table is a projection of the ledger, written by the writer in the same
-- transaction as the records it rests on, and `ledger verify` checks it equals a replay of the
-- ledger (no missing, no extra, no different row). Its foreign keys re-proved on every write
-- what the writer already guarantees, and on PostgreSQL they cost a row lock on the contact
-- point and on the ledger record per state written: a fifth of the one-click rate. The index of
-- pending states by time was never read (expiry goes through opt_in_requests). Both go.
--@ sqlite
CREATE TABLE consent_states_next (
    contact_point_id     INTEGER NOT NULL,
    subject_kind         TEXT NOT NULL,
    subject_id           INTEGER NOT NULL,
    channel              TEXT NOT NULL,
    value                TEXT NOT NULL,
    custodian_confirmed  INTEGER NOT NULL DEFAULT 0,
    ledger_seq           INTEGER NOT NULL,
    set_at               TEXT,
    PRIMARY KEY (contact_point_id, subject_kind, subject_id, channel)
);
INSERT INTO consent_states_next
    SELECT contact_point_id, subject_kind, subject_id, channel, value, custodian_confirmed,
           ledger_seq, set_at
    FROM consent_states;
DROP TABLE consent_states;
ALTER TABLE consent_states_next RENAME TO consent_states;
--@ postgres
ALTER TABLE consent_states DROP CONSTRAINT consent_states_contact_point_id_fkey;
ALTER TABLE consent_states DROP CONSTRAINT consent_states_ledger_seq_fkey;
DROP INDEX consent_states_pending_since;
--@ end
