-- A profile's catalogue version: every change to the profile, its purposes or its topics
-- increments it in the same transaction. Each instance caches catalogues and checks this
-- number (at most a second apart), so a change shows on every instance within a second.
ALTER TABLE compliance_profiles ADD COLUMN catalog_version {int} NOT NULL DEFAULT 1;
