-- SQLite: the consent states become one B-tree ordered by their primary key (WITHOUT ROWID),
-- not a table and a separate index of the key. A state is then found in one search, not an
-- index search and a table fetch, and a point's states lie side by side, so a segment's count
-- reads them in one ordered pass beside the points. PostgreSQL keeps its heap and index.
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
) WITHOUT ROWID;
INSERT INTO consent_states_next
    SELECT contact_point_id, subject_kind, subject_id, channel, value, custodian_confirmed,
           ledger_seq, set_at
    FROM consent_states;
DROP TABLE consent_states;
ALTER TABLE consent_states_next RENAME TO consent_states;
--@ postgres
SELECT 1;
--@ end
