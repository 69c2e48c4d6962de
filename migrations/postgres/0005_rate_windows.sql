-- PostgreSQL dialect of migrations/sqlite/0005.
CREATE TABLE rate_windows (
    window_start  TIMESTAMPTZ NOT NULL,
    key           BYTEA NOT NULL,
    hits          BIGINT NOT NULL,
    PRIMARY KEY (window_start, key)
);
