//! The per-token rate limit: a token bucket per token subject and workspace,
//! and per client address for requests without a valid token. Each instance
//! keeps its own buckets in memory, so behind several instances a caller's
//! allowance is per instance.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Weak};
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};

/// How many requests a caller may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests a minute, refilled evenly; 0 turns the limit off.
    pub per_minute: u32,
    /// Requests that may come at once, on a full bucket.
    pub burst: u32,
}

impl Default for RateLimit {
    /// 1,200 requests a minute (20 a second) with bursts of 300.
    fn default() -> Self {
        Self {
            per_minute: 1_200,
            burst: 300,
        }
    }
}

impl RateLimit {
    /// No limit at all.
    pub const OFF: RateLimit = RateLimit {
        per_minute: 0,
        burst: 0,
    };
}

/// Whose bucket a request draws on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    /// A verified token: its workspace slug and subject.
    Token { workspace: String, subject: String },
    /// No token, or one that did not verify: the client's address.
    Address(IpAddr),
}

/// The buckets of every caller, for one instance.
pub struct RateLimiter {
    buckets: DefaultKeyedRateLimiter<Caller>,
    burst: NonZeroU32,
}

impl RateLimiter {
    /// The limiter for `limit`; `None` when the limit is off.
    pub fn new(limit: RateLimit) -> Option<Arc<Self>> {
        let per_minute = NonZeroU32::new(limit.per_minute)?;
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        let limiter = Arc::new(Self {
            buckets: DefaultKeyedRateLimiter::keyed(quota),
            burst,
        });
        forget_idle_buckets(Arc::downgrade(&limiter));
        Some(limiter)
    }

    /// Counts `weight` requests (at most a burst) for `caller`; when the
    /// bucket holds too few, nothing is counted and the answer is how long
    /// until it holds enough.
    pub fn check(&self, caller: &Caller, weight: u64) -> Result<(), Duration> {
        let n = u32::try_from(weight)
            .ok()
            .and_then(NonZeroU32::new)
            .map_or(self.burst, |n| n.min(self.burst));
        match self.buckets.check_key_n(caller, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(not_until.wait_time_from(self.buckets.clock().now())),
            // `n` is at most the burst, which a bucket always holds in time.
            Err(_) => Err(Duration::from_secs(60)),
        }
    }
}

/// Every minute, drops the buckets that are full again, so that callers
/// seen once do not stay in memory; ends with the limiter.
fn forget_idle_buckets(limiter: Weak<RateLimiter>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let Some(limiter) = limiter.upgrade() else {
                return;
            };
            limiter.buckets.retain_recent();
            limiter.buckets.shrink_to_fit();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(subject: &str) -> Caller {
        Caller::Token {
            workspace: "acme".into(),
            subject: subject.into(),
        }
    }

    #[tokio::test]
    async fn a_bucket_allows_its_burst_then_says_how_long_to_wait() {
        let limiter = RateLimiter::new(RateLimit {
            per_minute: 60,
            burst: 5,
        })
        .unwrap();
        for _ in 0..5 {
            assert!(limiter.check(&token("a"), 1).is_ok());
        }
        let wait = limiter.check(&token("a"), 1).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        // Another subject has a bucket of its own.
        assert!(limiter.check(&token("b"), 1).is_ok());
    }

    #[tokio::test]
    async fn a_batch_counts_its_items_up_to_a_burst() {
        let limiter = RateLimiter::new(RateLimit {
            per_minute: 60,
            burst: 10,
        })
        .unwrap();
        assert!(limiter.check(&token("a"), 7).is_ok());
        assert!(limiter.check(&token("a"), 4).is_err());
        assert!(limiter.check(&token("a"), 3).is_ok());
        // A batch larger than the burst takes a whole bucket, once it is full.
        assert!(limiter.check(&token("b"), 1_000).is_ok());
        assert!(limiter.check(&token("b"), 1).is_err());
    }

    #[test]
    fn zero_turns_the_limit_off() {
        assert!(RateLimiter::new(RateLimit::OFF).is_none());
    }
}
