-- W3 nps: the answers within the window, counted in the database.
SELECT count(*) AS responses,
       count(*) FILTER (WHERE score >= 9) AS promoters,
       count(*) FILTER (WHERE score <= 6) AS detractors
FROM touchpoints
WHERE workspace_id = :ws
  AND kind = 'nps.responded'
  AND occurred_at >= :from::timestamptz AND occurred_at < :to::timestamptz
  AND score IS NOT NULL;
