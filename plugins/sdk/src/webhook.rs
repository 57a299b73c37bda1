//! Webhook deliveries and the signature checks vendors use.

use chrono::{DateTime, Utc};
use hmac::{KeyInit, Mac};

use crate::Touchpoint;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// How old (or how far in the future) a signed timestamp may be.
pub const REPLAY_WINDOW: chrono::Duration = chrono::Duration::minutes(5);

/// One HTTP request to `/webhooks/{connectorId}`, as received.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// Query parameters, decoded.
    pub query: &'a [(String, String)],
    /// Headers with lower-case names.
    pub headers: &'a [(String, String)],
    /// The raw body: signatures are over these exact bytes.
    pub body: &'a [u8],
}

impl WebhookRequest<'_> {
    /// The first header with this name (give it in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What to do with an accepted delivery.
#[derive(Debug)]
pub enum WebhookReply {
    /// A vendor's endpoint check (Twitter CRC, Zoom URL validation): answer
    /// 200 with this JSON and record nothing.
    Challenge(serde_json::Value),
    /// Record these touchpoints (possibly none, for events we do not track).
    Touchpoints(Vec<Touchpoint>),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("this connector kind takes no webhooks")]
    Unsupported,
    #[error("missing or invalid signature")]
    BadSignature,
    #[error("the signed timestamp is missing, malformed or outside the replay window")]
    Stale,
    #[error("malformed webhook payload: {0}")]
    Malformed(String),
}

/// HMAC-SHA256 of the concatenated parts.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Whether `expected` is the HMAC-SHA256 of the parts, compared in constant time.
pub fn verify_hmac_sha256(key: &[u8], parts: &[&[u8]], expected: &[u8]) -> bool {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.verify_slice(expected).is_ok()
}

/// Refuses a signed timestamp outside [`REPLAY_WINDOW`] of `now`.
pub fn check_fresh(signed_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), WebhookError> {
    if (now - signed_at).abs() > REPLAY_WINDOW {
        return Err(WebhookError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify_hmac_sha256(
            b"Jefe",
            &[b"what do ya want for nothing?"],
            &mac
        ));
        assert!(!verify_hmac_sha256(b"Jefe", &[b"what do ya want"], &mac));
        assert!(!verify_hmac_sha256(b"Jefe", &[b"x"], &mac[..31]));
    }

    #[test]
    fn timestamps_outside_the_window_are_stale() {
        let now = Utc::now();
        assert!(check_fresh(now - chrono::Duration::minutes(4), now).is_ok());
        assert_eq!(
            check_fresh(now - chrono::Duration::minutes(6), now),
            Err(WebhookError::Stale)
        );
        assert_eq!(
            check_fresh(now + chrono::Duration::minutes(6), now),
            Err(WebhookError::Stale)
        );
    }
}
