-- W2 in one statement: the account, its first 20 memberships (and how many it
-- has) joined to their stakeholders, and per member the 51 newest
-- touchpoints (one more than the page, for hasNextPage) through the
-- (workspace_id, stakeholder_id, occurred_at, id) index, in SQLite's form of
-- a per-parent limit (`id IN (SELECT id … LIMIT 51)`), plus the member's
-- touchpoint count. The counts are taken once per member in a materialized
-- CTE: as a correlated subquery in the outer select list SQLite counted them
-- again for each of the member's 51 rows.
-- setup
SELECT d.workspace_id, d.account_id
FROM account_domains d JOIN workspaces w ON w.id = d.workspace_id
WHERE w.slug = 'bench' AND d.domain = 'bench00000.example';
-- statement
WITH mem AS MATERIALIZED (
  SELECT m.id AS mid, m.role, m.stakeholder_id AS sid,
         (SELECT count(*) FROM touchpoints c
          WHERE c.workspace_id = ?1 AND c.stakeholder_id = m.stakeholder_id) AS total
  FROM memberships m
  WHERE m.workspace_id = ?1 AND m.account_id = ?2
  ORDER BY m.id LIMIT 21),
members AS MATERIALIZED (
  SELECT count(*) AS n FROM memberships WHERE workspace_id = ?1 AND account_id = ?2)
SELECT a.id, a.name, members.n, mem.role, p.id, p.name, mem.total,
       t.id, t.kind, t.channel, t.occurred_at
FROM accounts a
CROSS JOIN members
JOIN mem
JOIN stakeholders p ON p.id = mem.sid
LEFT JOIN touchpoints t ON t.id IN (
  SELECT id FROM touchpoints WHERE workspace_id = ?1 AND stakeholder_id = p.id
  ORDER BY occurred_at DESC, id DESC LIMIT 51)
WHERE a.id = ?2 AND a.workspace_id = ?1
ORDER BY mem.mid, t.occurred_at DESC, t.id DESC;
