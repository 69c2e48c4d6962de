-- PostgreSQL dialect of migrations/sqlite/0004.
ALTER TABLE compliance_profiles ADD COLUMN catalog_version BIGINT NOT NULL DEFAULT 1;
