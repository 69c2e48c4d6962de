-- The jurisdiction a compliance profile's consent falls under (a consent receipt states it,
-- Kantara Consent Receipt v1.1 `jurisdiction`): free text such as "EU (GDPR)" or "US-NY".
ALTER TABLE compliance_profiles ADD COLUMN jurisdiction TEXT;
