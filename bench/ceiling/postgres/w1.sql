-- W1: one touchpoint by id, as `node(id:)` reads it (the primary key, within
-- the token's workspace), with the columns the query asks for.
SELECT id, kind, channel, occurred_at
FROM touchpoints
WHERE id = :touchpoint AND workspace_id = :ws;
