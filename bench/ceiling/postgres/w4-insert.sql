-- W4: one multi-row INSERT of 1,000 touchpoints whose account and person are
-- already resolved. The harness expands the rows between `-- repeat 1000`
-- and `-- end repeat`: that row, 1,000 times, comma-joined (pgbench takes at
-- most 255 parameters a statement, so the ids come in once). Fresh ids and
-- external ids every time.
INSERT INTO touchpoints (id, workspace_id, account_id, stakeholder_id, source, external_id,
                         channel, kind, occurred_at, title, owner_team, created_at, updated_at)
SELECT gen_random_uuid(), p.ws, p.account, p.person, 'bench-ceiling', gen_random_uuid()::text,
       v.channel, v.kind, now() - v.ago * interval '1 second', v.title, 'MARKETING', now(), now()
FROM (SELECT :ws::uuid AS ws, :account::uuid AS account, :person::uuid AS person) AS p,
(VALUES
-- repeat 1000
('WEB', 'page.visited', 3600, 'Visited /pricing')
-- end repeat
) AS v (channel, kind, ago, title);
