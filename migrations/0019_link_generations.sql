-- Signed links (domain::link) carry their contact point's link generation when minted; raising
-- it (erasure, or a sending system revoking a point's links) ends every link minted before.
ALTER TABLE contact_points ADD COLUMN link_generation {int} NOT NULL DEFAULT 0;
