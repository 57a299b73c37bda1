-- W4: one multi-row INSERT of 1,000 touchpoints whose account and person are
-- already resolved: the row between `-- repeat 1000` and `-- end repeat`,
-- 1,000 times. Fresh ids and external ids every time; timestamps in the
-- text form the server stores.
-- setup
SELECT m.workspace_id, m.account_id, m.stakeholder_id
FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
WHERE w.slug = 'bench'
ORDER BY m.id
LIMIT 1;
-- statement
INSERT INTO touchpoints (id, workspace_id, account_id, stakeholder_id, source, external_id,
                         channel, kind, occurred_at, title, owner_team, created_at, updated_at)
VALUES
-- repeat 1000
(randomblob(16), ?1, ?2, ?3, 'bench-ceiling', hex(randomblob(16)), 'WEB', 'page.visited', strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now', '-1 hour'), 'Visited /pricing', 'MARKETING', strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'), strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'))
-- end repeat
;
