-- The console's users and their sessions. No user exists until the setup step creates the
-- first admin. A password is stored as an argon2id PHC string only. A session begun before a
-- user's `sessions_after` is over (set when the user is disabled or enabled), so ending every
-- session of a user is one write; a deleted user's sessions name nobody and end too.
CREATE TABLE users (
    id               {id},
    email            TEXT NOT NULL UNIQUE,
    role             TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'analyst')),
    password_hash    TEXT,
    created_at       {ts} NOT NULL,
    disabled_at      {ts},
    last_sign_in_at  {ts},
    sessions_after   {ts} NOT NULL
);

-- tower-sessions' records, written through the single writer like everything else.
CREATE TABLE console_sessions (
    id          TEXT PRIMARY KEY,
    data        {bytes} NOT NULL,
    expires_at  {ts} NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- The one-time code that unlocks the setup page while no user exists (a keyed hash of it; the
-- server prints the code at start). One row at most; gone once the first admin is created.
CREATE TABLE console_setup (
    id          {int} PRIMARY KEY CHECK (id = 1),
    code_hash   {bytes} NOT NULL,
    created_at  {ts} NOT NULL
);
