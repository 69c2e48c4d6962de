-- Saved segments: an analyst's audience of one profile's contact points on one channel, as
-- rules (JSON, `domain::segment::Definition`: purposes and topics by key). A segment holds no
-- one's data: its members are counted and exported from the consent states when asked.
CREATE TABLE segments (
    id          {id},
    profile_id  {int} NOT NULL REFERENCES compliance_profiles(id),
    name        TEXT NOT NULL,
    definition  TEXT NOT NULL,
    -- 'user:{id}' of who saved it first and last.
    created_by  TEXT NOT NULL,
    created_at  {ts} NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  {ts} NOT NULL
);
