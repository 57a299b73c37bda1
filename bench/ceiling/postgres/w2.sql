-- W2 in one statement: the account, its first 20 memberships (and how many it
-- has) joined to their stakeholders, and per member the 51 newest
-- touchpoints (one more than the page, for hasNextPage) through the
-- (workspace_id, stakeholder_id, occurred_at, id) index, plus the member's
-- touchpoint count.
SELECT a.id, a.name, m.members, m.role, p.id, p.name, c.total, t.id, t.kind, t.channel, t.occurred_at
FROM accounts a
JOIN LATERAL (
  SELECT ms.id, ms.role, ms.stakeholder_id, count(*) OVER () AS members
  FROM memberships ms
  WHERE ms.workspace_id = a.workspace_id AND ms.account_id = a.id
  ORDER BY ms.id
  LIMIT 21
) m ON true
JOIN stakeholders p ON p.id = m.stakeholder_id
LEFT JOIN LATERAL (
  SELECT count(*) AS total FROM touchpoints x
  WHERE x.workspace_id = a.workspace_id AND x.stakeholder_id = p.id
) c ON true
LEFT JOIN LATERAL (
  SELECT x.id, x.kind, x.channel, x.occurred_at FROM touchpoints x
  WHERE x.workspace_id = a.workspace_id AND x.stakeholder_id = p.id
  ORDER BY x.occurred_at DESC, x.id DESC
  LIMIT 51
) t ON true
WHERE a.id = :account AND a.workspace_id = :ws;
