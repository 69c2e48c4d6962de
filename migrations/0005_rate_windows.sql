-- Sign-ups per client in one-minute windows, counted in the database so that the limit holds
-- across every instance. The key is a keyed hash of the client's address (never the address),
-- and windows older than the previous one are deleted as new ones open.
CREATE TABLE rate_windows (
    window_start  {ts} NOT NULL,
    key           {bytes} NOT NULL,
    hits          {int} NOT NULL,
    PRIMARY KEY (window_start, key)
);
