-- SQLite: a point found by its address is read from the index alone. The unique index of
-- (kind, address) holds only the point's id: the contact and the link generation were a
-- second search, in the table, on every decision of the API (one of five per decision, each
-- a walk of three or four pages that the server's other work keeps pushing out of the CPU's
-- caches). The API's lookups name this index (`INDEXED BY`: the planner prefers the unique
-- one). PostgreSQL finds its rows through its own index and heap; nothing changes there.
--@ sqlite
CREATE INDEX contact_points_lookup ON contact_points (kind, address, contact_id, link_generation);
--@ postgres
SELECT 1;
--@ end
