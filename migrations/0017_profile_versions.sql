-- The words a profile puts under every page and email (its name, postal address, legal footer
-- and privacy link) as they were from each moment on, so a published form version opens with
-- the words its contacts saw at any moment. Rows are only ever added.
CREATE TABLE profile_versions (
    profile_id      {int} NOT NULL REFERENCES compliance_profiles(id),
    effective_at    {ts} NOT NULL,
    name            TEXT NOT NULL,
    footer_address  TEXT NOT NULL,
    legal_footer    TEXT,
    privacy_url     TEXT,
    PRIMARY KEY (profile_id, effective_at)
);
INSERT INTO profile_versions
    SELECT id, created_at, name, footer_address, legal_footer, privacy_url
    FROM compliance_profiles;
