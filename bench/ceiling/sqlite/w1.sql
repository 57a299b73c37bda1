-- W1: one touchpoint by id (the newest of the seed's busiest account), as
-- `node(id:)` reads it: the primary key, within the workspace.
-- setup
SELECT t.workspace_id, t.id
FROM touchpoints t
JOIN account_domains d ON d.account_id = t.account_id AND d.workspace_id = t.workspace_id
WHERE d.domain = 'bench00000.example'
ORDER BY t.occurred_at DESC, t.id DESC
LIMIT 1;
-- statement
SELECT id, kind, channel, occurred_at
FROM touchpoints
WHERE id = ?2 AND workspace_id = ?1;
