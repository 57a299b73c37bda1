-- W3 funnel: the model's live stages, and per stage the accounts that
-- entered it within the window (an account counted once, by its first entry),
-- those that moved on (a later transition of the same account within the
-- window) and the median time in stage; the server reads the same
-- transitions and does the counting in Rust.
WITH moves AS (
  SELECT account_id, to_stage_id, occurred_at,
         lead(occurred_at) OVER (PARTITION BY account_id ORDER BY occurred_at, id) AS left_at,
         row_number() OVER (PARTITION BY account_id, to_stage_id ORDER BY occurred_at, id) AS visit
  FROM stage_transitions
  WHERE workspace_id = :ws AND model_id = :model AND phase = false
    AND occurred_at >= :from::timestamptz AND occurred_at < :to::timestamptz
)
SELECT s.id, s.name, s.position,
       count(m.account_id) AS entered,
       count(m.left_at) AS moved_on,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM m.left_at - m.occurred_at)) AS median_seconds
FROM stages s
LEFT JOIN moves m ON m.to_stage_id = s.id AND m.visit = 1
WHERE s.workspace_id = :ws AND s.model_id = :model AND s.archived_at IS NULL
GROUP BY s.id, s.name, s.position
ORDER BY s.position;
