//! Zoom webhooks: signed `v0:{timestamp}:{body}` with the app's secret token,
//! the endpoint's URL validation answered, registrations and joins recorded
//! under the pull's external ids, and departures as `webinar.left`.

use chrono::{DateTime, Utc};
use journeys_plugin_sdk::{
    WebhookError, WebhookReply, WebhookRequest, check_fresh, hmac_sha256, verify_hmac_sha256,
};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::touchpoints::{Attendee, WebinarRef, attended_at, left, registered};
use crate::wire::{
    Envelope, ParticipantJoined, ParticipantLeft, RegistrationCreated, UrlValidation, WebinarEvent,
};

/// Verifies and reads one delivery. Without a secret token, every delivery
/// is refused.
pub fn handle(
    secret: Option<&str>,
    request: &WebhookRequest<'_>,
    now: DateTime<Utc>,
) -> Result<WebhookReply, WebhookError> {
    let secret = secret.ok_or(WebhookError::BadSignature)?;
    verify(secret, request, now)?;
    let envelope: Envelope =
        serde_json::from_slice(request.body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    match envelope.event.as_str() {
        // Zoom signs this one too: it was verified above.
        "endpoint.url_validation" => {
            let validation: UrlValidation = payload(envelope.payload)?;
            let encrypted = hmac_sha256(secret.as_bytes(), &[validation.plain_token.as_bytes()]);
            Ok(WebhookReply::Challenge(json!({
                "plainToken": validation.plain_token,
                "encryptedToken": hex::encode(encrypted),
            })))
        }
        "webinar.registration_created" => {
            let event: WebinarEvent<RegistrationCreated> = payload(envelope.payload)?;
            let object = event.object;
            let webinar = WebinarRef {
                id: webinar_id(&object.id)?,
                topic: object.topic.as_deref(),
            };
            let occurred_at = object
                .registrant
                .create_time
                .or_else(|| envelope.event_ts.and_then(DateTime::from_timestamp_millis))
                .ok_or_else(|| malformed("neither create_time nor event_ts"))?;
            let touchpoint = registered(webinar, &object.registrant, occurred_at)
                .ok_or_else(|| malformed("a registrant without an id"))?;
            Ok(WebhookReply::Touchpoints(vec![touchpoint]))
        }
        "webinar.participant_joined" => {
            let event: WebinarEvent<ParticipantJoined> = payload(envelope.payload)?;
            let object = event.object;
            let webinar = WebinarRef {
                id: webinar_id(&object.id)?,
                topic: object.topic.as_deref(),
            };
            let joined = object.participant;
            let attendee = Attendee::new(
                joined.registrant_id.as_deref(),
                joined.email.as_deref(),
                joined.user_name.as_deref(),
            );
            // An anonymous guest is left out, as the pull leaves them out.
            let touchpoints = attendee
                .key()
                .map(|key| attended_at(webinar, &key, &attendee, joined.join_time))
                .into_iter()
                .collect();
            Ok(WebhookReply::Touchpoints(touchpoints))
        }
        "webinar.participant_left" => {
            let event: WebinarEvent<ParticipantLeft> = payload(envelope.payload)?;
            let object = event.object;
            let webinar = WebinarRef {
                id: webinar_id(&object.id)?,
                topic: object.topic.as_deref(),
            };
            let gone = object.participant;
            let attendee = Attendee::new(
                gone.registrant_id.as_deref(),
                gone.email.as_deref(),
                gone.user_name.as_deref(),
            );
            // The attendance is left to the pull, which folds every stay.
            let touchpoints = attendee
                .key()
                .map(|key| left(webinar, &key, &attendee, gone.leave_time))
                .into_iter()
                .collect();
            Ok(WebhookReply::Touchpoints(touchpoints))
        }
        _ => Ok(WebhookReply::Touchpoints(Vec::new())),
    }
}

/// Checks `x-zm-signature` (`v0=` and hex HMAC-SHA256 of
/// `v0:{timestamp}:{body}`), then that `x-zm-request-timestamp` (epoch
/// seconds) is recent.
fn verify(
    secret: &str,
    request: &WebhookRequest<'_>,
    now: DateTime<Utc>,
) -> Result<(), WebhookError> {
    let signature = request
        .header("x-zm-signature")
        .and_then(|header| header.strip_prefix("v0="))
        .and_then(|hex_mac| hex::decode(hex_mac).ok())
        .ok_or(WebhookError::BadSignature)?;
    let timestamp = request
        .header("x-zm-request-timestamp")
        .ok_or(WebhookError::Stale)?;
    let signed = [b"v0:".as_slice(), timestamp.as_bytes(), b":", request.body];
    if !verify_hmac_sha256(secret.as_bytes(), &signed, &signature) {
        return Err(WebhookError::BadSignature);
    }
    let signed_at = timestamp
        .parse::<i64>()
        .ok()
        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
        .ok_or(WebhookError::Stale)?;
    check_fresh(signed_at, now)
}

fn payload<T: DeserializeOwned>(payload: serde_json::Value) -> Result<T, WebhookError> {
    serde_json::from_value(payload).map_err(|e| WebhookError::Malformed(e.to_string()))
}

/// Webhooks send the webinar id as a string; the pull's ids use the number.
fn webinar_id(id: &str) -> Result<i64, WebhookError> {
    id.trim()
        .parse()
        .map_err(|_| malformed("a webinar id that is not a number"))
}

fn malformed(what: &str) -> WebhookError {
    WebhookError::Malformed(what.to_owned())
}
