//! Keeps export requests within Zendesk's per-minute allowance (10 by
//! default): a sliding window over the times of the last requests, so a short
//! sync goes at full speed and a long one waits only when the window is full.
//! It lives in the connector, so it paces one run; a 429 between runs is still
//! waited out by its `Retry-After`.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct PerMinute {
    allowed: usize,
    sent: VecDeque<Instant>,
}

impl PerMinute {
    pub fn new(allowed: u32) -> Self {
        PerMinute {
            allowed: allowed.max(1) as usize,
            sent: VecDeque::new(),
        }
    }

    /// Waits until one more request fits in the last minute, and counts it.
    pub async fn acquire(&mut self) {
        let now = Instant::now();
        while self.sent.front().is_some_and(|&at| now - at >= WINDOW) {
            self.sent.pop_front();
        }
        if self.sent.len() >= self.allowed
            && let Some(oldest) = self.sent.pop_front()
        {
            tokio::time::sleep_until(oldest + WINDOW).await;
        }
        self.sent.push_back(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn no_more_than_the_allowance_goes_out_in_any_minute() {
        let mut limiter = PerMinute::new(3);
        let start = Instant::now();
        let mut sent = Vec::new();
        for _ in 0..7 {
            limiter.acquire().await;
            sent.push(Instant::now() - start);
        }
        let secs: Vec<u64> = sent.iter().map(Duration::as_secs).collect();
        // Three at once, then each waits for the one three back to leave the window.
        assert_eq!(secs, [0, 0, 0, 60, 60, 60, 120]);
        for (i, at) in sent.iter().enumerate() {
            let in_window = sent[i..].iter().filter(|&&t| t - *at < WINDOW).count();
            assert!(in_window <= 3, "{sent:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_minute_frees_the_window() {
        let mut limiter = PerMinute::new(2);
        limiter.acquire().await;
        limiter.acquire().await;
        tokio::time::sleep(Duration::from_secs(61)).await;
        let before = Instant::now();
        limiter.acquire().await;
        limiter.acquire().await;
        assert_eq!(Instant::now(), before, "no wait after a quiet minute");
    }
}
