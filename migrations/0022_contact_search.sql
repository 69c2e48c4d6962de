-- The staff desk finds a contact by name, email address or phone number, by the start of any
-- word, whatever its case or accents (domain::search). A contact's name is personal data:
-- erasure removes it and its terms.
ALTER TABLE contacts ADD COLUMN name TEXT;

-- The folded words of the name, the folded email addresses, the phone numbers' digits (with
-- and without a country code). Compared byte by byte ({key}), so that the terms starting with
-- a prefix are one range of the primary key on both backends.
CREATE TABLE contact_terms (
    term        {key} NOT NULL,
    contact_id  {int} NOT NULL REFERENCES contacts(id),
    PRIMARY KEY (term, contact_id)
);
CREATE INDEX contact_terms_by_contact ON contact_terms (contact_id);

-- The addresses already kept (names come with this version). SQLite's lower() folds ASCII
-- letters only: an address written before with other capitals is found by its exact form.
INSERT INTO contact_terms (term, contact_id)
SELECT DISTINCT lower(address), contact_id FROM contact_points
WHERE kind = 'email' AND address IS NOT NULL
ON CONFLICT DO NOTHING;
INSERT INTO contact_terms (term, contact_id)
SELECT DISTINCT substr(address, 2 + n.skip), contact_id
FROM contact_points, (SELECT 0 AS skip UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) n
WHERE kind = 'phone' AND address IS NOT NULL AND length(address) - 1 > n.skip + 4
ON CONFLICT DO NOTHING;
