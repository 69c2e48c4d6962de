-- Every change made in the console (and by the setup step), who made it and when, what it
-- was before and after: users' roles, states and accounts today; profiles, forms and keys as
-- the console grows. Append-only by the application (no statement updates or deletes it).
CREATE TABLE console_audit (
    id             {id},
    at             {ts} NOT NULL,
    actor_user_id  {int},
    -- The actor as they were named then: their email, "setup page" or "cli:NAME".
    actor          TEXT NOT NULL,
    kind           TEXT NOT NULL,
    subject        TEXT NOT NULL,
    before         TEXT,
    after          TEXT
);
CREATE INDEX console_audit_at ON console_audit (at);
