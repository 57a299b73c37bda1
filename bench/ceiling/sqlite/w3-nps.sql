-- W3 nps: the answers within the last 90 days, counted in the database.
-- setup
SELECT w.id,
       strftime('%Y-%m-%dT%H:%M:%f', 'now', '-90 days') || '+00:00',
       strftime('%Y-%m-%dT%H:%M:%f', 'now', '+1 minute') || '+00:00'
FROM workspaces w WHERE w.slug = 'bench';
-- statement
SELECT count(*) AS responses,
       sum(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
       sum(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
FROM touchpoints
WHERE workspace_id = ?1
  AND kind = 'nps.responded'
  AND occurred_at >= ?2 AND occurred_at < ?3
  AND score IS NOT NULL;
