-- The compliance setup in the console: what a profile says under every page and email, its
-- double opt-in settings, and the history of the definitions a decision rests on.

-- Text under the postal address on pages and emails (company registration, legal notice).
ALTER TABLE compliance_profiles ADD COLUMN legal_footer TEXT;
-- Double opt-in overrides of the server-wide settings: NULL is the server's setting; a
-- reminder of 0 hours is no reminder.
ALTER TABLE compliance_profiles ADD COLUMN doi_confirm_hours {int};
ALTER TABLE compliance_profiles ADD COLUMN doi_reminder_hours {int};

-- When a purpose or topic was made (versions count from there).
ALTER TABLE purposes ADD COLUMN created_at {ts};
ALTER TABLE topics ADD COLUMN created_at {ts};
UPDATE purposes SET created_at = (
    SELECT created_at FROM compliance_profiles p WHERE p.id = purposes.profile_id
);
UPDATE topics SET created_at = (SELECT created_at FROM purposes p WHERE p.id = topics.purpose_id);

-- What a decision rests on, as it was from each moment on: every change to a purpose's
-- enforcement model, channels, mandatory flag, minimum level or retirement (and a topic's
-- retirement) adds a row with the time it took effect, so a decision can be made again as of
-- any past moment. Rows are only ever added.
CREATE TABLE purpose_versions (
    purpose_id         {int} NOT NULL REFERENCES purposes(id),
    effective_at       {ts} NOT NULL,
    enforcement        TEXT NOT NULL,
    channels           TEXT NOT NULL,
    mandatory          {bool} NOT NULL,
    min_consent_level  {int} NOT NULL,
    retired            {bool} NOT NULL,
    PRIMARY KEY (purpose_id, effective_at)
);
CREATE TABLE topic_versions (
    topic_id      {int} NOT NULL REFERENCES topics(id),
    effective_at  {ts} NOT NULL,
    retired       {bool} NOT NULL,
    PRIMARY KEY (topic_id, effective_at)
);
INSERT INTO purpose_versions
    SELECT id, created_at, enforcement, channels, mandatory, min_consent_level, {false}
    FROM purposes;
INSERT INTO purpose_versions
    SELECT id, retired_at, enforcement, channels, mandatory, min_consent_level, {true}
    FROM purposes WHERE retired_at IS NOT NULL;
INSERT INTO topic_versions SELECT id, created_at, {false} FROM topics;
INSERT INTO topic_versions SELECT id, retired_at, {true} FROM topics WHERE retired_at IS NOT NULL;
