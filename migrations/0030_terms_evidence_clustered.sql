-- SQLite: the search terms and the ledger's evidence become one B-tree each, ordered by their
-- primary key (WITHOUT ROWID), like the consent states (0028): a term or an evidence row is
-- written into one B-tree instead of a table and a separate index of its key, and found in one
-- search. An import of new contacts writes several terms and an evidence row per contact: about
-- a fifteenth of its time went to the second B-tree. PostgreSQL keeps its heap and indexes.
--@ sqlite
CREATE TABLE contact_terms_next (
    term        TEXT NOT NULL,
    contact_id  INTEGER NOT NULL REFERENCES contacts(id),
    PRIMARY KEY (term, contact_id)
) WITHOUT ROWID;
INSERT INTO contact_terms_next SELECT term, contact_id FROM contact_terms ORDER BY term, contact_id;
DROP TABLE contact_terms;
ALTER TABLE contact_terms_next RENAME TO contact_terms;
CREATE INDEX contact_terms_by_contact ON contact_terms (contact_id, term);
CREATE TABLE ledger_evidence_next (
    change_id      TEXT PRIMARY KEY,
    justification  TEXT,
    ip             TEXT,
    user_agent     TEXT,
    salt           BLOB
) WITHOUT ROWID;
INSERT INTO ledger_evidence_next
    SELECT change_id, justification, ip, user_agent, salt FROM ledger_evidence ORDER BY change_id;
DROP TABLE ledger_evidence;
ALTER TABLE ledger_evidence_next RENAME TO ledger_evidence;
--@ postgres
SELECT 1;
--@ end
