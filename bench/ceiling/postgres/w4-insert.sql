-- W4: one multi-row INSERT of 1,000 touchpoints whose account and person are
-- already resolved (`-- repeat 1000` is expanded by the harness: the row
-- below, 1,000 times). Fresh ids and external ids every time.
INSERT INTO touchpoints (id, workspace_id, account_id, stakeholder_id, source, external_id,
                         channel, kind, occurred_at, title, owner_team, created_at, updated_at)
VALUES
-- repeat 1000
(gen_random_uuid(), :ws::uuid, :account::uuid, :person::uuid, 'bench-ceiling', gen_random_uuid()::text, 'WEB', 'page.visited', now() - random() * interval '7 days', 'Visited /pricing', 'MARKETING', now(), now());
