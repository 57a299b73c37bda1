-- W3 funnel: the model's live stages, and per stage the accounts that
-- entered it within the last 90 days (an account counted once, by its first
-- entry), those that moved on, and the mean time in stage (SQLite has no
-- median); the server reads the same transitions and counts in Rust.
-- setup
SELECT m.workspace_id, m.id,
       strftime('%Y-%m-%dT%H:%M:%f', 'now', '-90 days') || '+00:00',
       strftime('%Y-%m-%dT%H:%M:%f', 'now', '+1 minute') || '+00:00'
FROM journey_models m JOIN workspaces w ON w.id = m.workspace_id
WHERE w.slug = 'bench' AND m.is_default;
-- statement
WITH moves AS (
  SELECT account_id, to_stage_id, occurred_at,
         lead(occurred_at) OVER (PARTITION BY account_id ORDER BY occurred_at, id) AS left_at,
         row_number() OVER (PARTITION BY account_id, to_stage_id ORDER BY occurred_at, id) AS visit
  FROM stage_transitions
  WHERE workspace_id = ?1 AND model_id = ?2 AND phase = 0
    AND occurred_at >= ?3 AND occurred_at < ?4
)
SELECT s.id, s.name, s.position,
       count(m.account_id) AS entered,
       count(m.left_at) AS moved_on,
       avg((julianday(m.left_at) - julianday(m.occurred_at)) * 86400) AS mean_seconds
FROM stages s
LEFT JOIN moves m ON m.to_stage_id = s.id AND m.visit = 1
WHERE s.workspace_id = ?1 AND s.model_id = ?2 AND s.archived_at IS NULL
GROUP BY s.id, s.name, s.position
ORDER BY s.position;
