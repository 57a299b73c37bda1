//! Account Activity API webhooks.
//!
//! - **CRC check:** X registers and re-validates the endpoint with
//!   `GET ?crc_token=T`, answered with
//!   `{"response_token": "sha256=" + base64(HMAC-SHA256(consumer_secret, T))}`.
//! - **Deliveries:** POSTs signed in `x-twitter-webhooks-signature` as
//!   `sha256=` + base64(HMAC-SHA256(consumer_secret, raw body)).
//!
//! X signs no timestamp, so there is no replay window to enforce: a replayed
//! delivery can only repeat tweets already recorded, and they carry the same
//! external ids, so the server's upsert leaves them as they were.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use journeys_plugin_sdk::{
    WebhookError, WebhookReply, WebhookRequest, hmac_sha256, verify_hmac_sha256,
};
use serde_json::json;

use crate::touchpoints;
use crate::wire::Activity;

const SIGNATURE_HEADER: &str = "x-twitter-webhooks-signature";

/// Answers a CRC check or turns a signed delivery into touchpoints: tweets by
/// others that mention `user_id`, for `user_id`'s subscription. Everything
/// else (its own tweets, favorites, follows, other subscriptions) records
/// nothing.
pub fn handle(
    consumer_secret: &[u8],
    user_id: &str,
    request: &WebhookRequest<'_>,
) -> Result<WebhookReply, WebhookError> {
    if request.method.eq_ignore_ascii_case("GET") {
        let token = request
            .query("crc_token")
            .ok_or_else(|| WebhookError::Malformed("a CRC check needs `crc_token`".into()))?;
        let digest = hmac_sha256(consumer_secret, &[token.as_bytes()]);
        return Ok(WebhookReply::Challenge(json!({
            "response_token": format!("sha256={}", BASE64.encode(digest)),
        })));
    }
    let signature = request
        .header(SIGNATURE_HEADER)
        .and_then(|value| value.strip_prefix("sha256="))
        .and_then(|encoded| BASE64.decode(encoded).ok())
        .ok_or(WebhookError::BadSignature)?;
    if !verify_hmac_sha256(consumer_secret, &[request.body], &signature) {
        return Err(WebhookError::BadSignature);
    }
    let activity: Activity =
        serde_json::from_slice(request.body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    if activity.for_user_id != user_id {
        return Ok(WebhookReply::Touchpoints(Vec::new()));
    }
    let mentions = activity
        .tweet_create_events
        .iter()
        .filter(|tweet| {
            tweet.user.id_str != user_id
                && tweet
                    .entities
                    .as_ref()
                    .is_some_and(|e| e.user_mentions.iter().any(|m| m.id_str == user_id))
        })
        .map(touchpoints::from_delivered)
        .collect();
    Ok(WebhookReply::Touchpoints(mentions))
}
