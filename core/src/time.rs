//! Timestamps as stored: UTC, truncated to microseconds, so SQLite (text) and
//! PostgreSQL (`timestamptz`) hold and compare exactly the same instants.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

pub fn now() -> DateTime<Utc> {
    to_micros(Utc::now())
}

pub fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_nanoseconds() {
        let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456789Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            to_micros(t).to_rfc3339(),
            "2026-01-02T03:04:05.123456+00:00"
        );
    }
}
