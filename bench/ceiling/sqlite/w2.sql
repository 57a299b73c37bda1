-- W2 in one statement: the account, its first 20 memberships (and how many it
-- has) joined to their stakeholders, and per member the 51 newest
-- touchpoints (one more than the page, for hasNextPage) through the
-- (workspace_id, stakeholder_id, occurred_at, id) index, in SQLite's form of
-- a per-parent limit (`id IN (SELECT id … LIMIT 51)`), plus the member's
-- touchpoint count.
-- setup
SELECT d.workspace_id, d.account_id
FROM account_domains d JOIN workspaces w ON w.id = d.workspace_id
WHERE w.slug = 'bench' AND d.domain = 'bench00000.example';
-- statement
SELECT a.id, a.name,
       (SELECT count(*) FROM memberships WHERE workspace_id = ?1 AND account_id = a.id) AS members,
       m.role, p.id, p.name,
       (SELECT count(*) FROM touchpoints c WHERE c.workspace_id = ?1 AND c.stakeholder_id = p.id) AS total,
       t.id, t.kind, t.channel, t.occurred_at
FROM accounts a
JOIN memberships m ON m.id IN (
  SELECT id FROM memberships WHERE workspace_id = ?1 AND account_id = a.id ORDER BY id LIMIT 21)
JOIN stakeholders p ON p.id = m.stakeholder_id
LEFT JOIN touchpoints t ON t.id IN (
  SELECT id FROM touchpoints WHERE workspace_id = ?1 AND stakeholder_id = p.id
  ORDER BY occurred_at DESC, id DESC LIMIT 51)
WHERE a.id = ?2 AND a.workspace_id = ?1
ORDER BY m.id, t.occurred_at DESC, t.id DESC;
