-- The preference form designer: a profile's draft design (what the designer edits; contacts
-- never see it) and its published versions, immutable: every ledger record names the version
-- (form_version) and language its contact was shown, and an admin can open any of them. A
-- version keeps the whole design and the purposes and topics it showed, as JSON.
CREATE TABLE form_drafts (
    profile_id  {int} PRIMARY KEY REFERENCES compliance_profiles(id),
    design      TEXT NOT NULL,
    updated_at  {ts} NOT NULL,
    updated_by  TEXT NOT NULL
);

CREATE TABLE form_versions (
    profile_id    {int} NOT NULL REFERENCES compliance_profiles(id),
    version       {int} NOT NULL,
    design        TEXT NOT NULL,
    -- The purposes and topics the version showed, with their words in every language.
    items         TEXT NOT NULL,
    published_at  {ts} NOT NULL,
    published_by  TEXT NOT NULL,
    PRIMARY KEY (profile_id, version)
);

--@ sqlite
CREATE TRIGGER form_versions_no_update BEFORE UPDATE ON form_versions
BEGIN
    SELECT RAISE(ABORT, 'form_versions are immutable');
END;
CREATE TRIGGER form_versions_no_delete BEFORE DELETE ON form_versions
BEGIN
    SELECT RAISE(ABORT, 'form_versions are immutable');
END;
--@ postgres
CREATE FUNCTION form_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'form_versions are immutable';
END;
$$;
CREATE TRIGGER form_versions_no_update BEFORE UPDATE ON form_versions
    FOR EACH ROW EXECUTE FUNCTION form_versions_immutable();
CREATE TRIGGER form_versions_no_delete BEFORE DELETE ON form_versions
    FOR EACH ROW EXECUTE FUNCTION form_versions_immutable();
--@ end
