//! Outbound webhooks in process: signatures a receiver can check on its
//! own, backoff bounds, the address rule, and secret rotation's overlap.

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use entity::vocab::EventType;
use entity::{event, webhook_delivery};
use hmac::{KeyInit, Mac};
use journeys_core::connectors::secrets::SecretBox;
use journeys_core::outbound::{
    NewEndpoint, Outbound, SigningSecret, WebhookSettings, backoff, check_url, is_public,
    signature_header,
};
use journeys_core::{CoreError, retention};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};

use crate::Engine as Fixture;

/// Standard Webhooks, computed here from its definition alone.
fn expected_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[test]
fn outbound_signatures_match_an_independent_hmac() {
    let text = format!("whsec_{}", STANDARD.encode([42u8; 32]));
    let secret = SigningSecret::parse(&text).unwrap();
    assert_eq!(secret.reveal(), text);
    let body = br#"{"type":"TOUCHPOINT_RECORDED"}"#;
    let id = "0192f0c4-0000-7000-8000-000000000001";
    let signed = secret.sign(id, 1_765_000_000, body);
    assert_eq!(signed, expected_signature(&text, id, 1_765_000_000, body));
    // Another timestamp or body signs differently.
    assert_ne!(signed, secret.sign(id, 1_765_000_001, body));
    assert_ne!(signed, secret.sign(id, 1_765_000_000, b"{}"));

    let other = format!("whsec_{}", STANDARD.encode([7u8; 32]));
    let both = [secret, SigningSecret::parse(&other).unwrap()];
    let header = signature_header(&both, id, 5, body);
    assert_eq!(
        header,
        format!(
            "{} {}",
            expected_signature(&text, id, 5, body),
            expected_signature(&other, id, 5, body)
        )
    );
}

#[test]
fn outbound_backoff_grows_within_its_bounds() {
    let (base, max) = (Duration::from_millis(100), Duration::from_secs(10));
    let mut previous_floor = Duration::ZERO;
    for failures in 1..=12u32 {
        let ceiling = (base * 2u32.pow(failures - 1)).min(max);
        let floor = ceiling / 2;
        assert!(floor >= previous_floor, "waits never shrink");
        previous_floor = floor;
        let waits: Vec<Duration> = (0..200).map(|_| backoff(base, max, failures)).collect();
        for wait in &waits {
            assert!(
                *wait >= floor && *wait <= ceiling,
                "{failures}: {wait:?} not in {floor:?}..={ceiling:?}"
            );
        }
        if ceiling >= Duration::from_millis(100) {
            assert!(waits.iter().any(|w| *w != waits[0]), "{failures}: jittered");
        }
    }
    assert!(backoff(base, max, u32::MAX) <= max);
}

#[tokio::test]
async fn outbound_refuses_private_loopback_and_link_local_targets_unless_allowed() {
    for private in [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "::",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
    ] {
        let ip: IpAddr = private.parse().unwrap();
        assert!(!is_public(ip), "{private} is not public");
    }
    for public in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111"] {
        assert!(is_public(public.parse().unwrap()), "{public} is public");
    }
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://[::1]/hook",
        "https://169.254.169.254/latest",
        "http://10.0.0.7/hook",
        "http://localhost:9/hook",
    ] {
        let err = check_url(url, false).await.unwrap_err();
        assert!(
            matches!(
                err,
                CoreError::InvalidInput {
                    field: Some("url"),
                    ..
                }
            ),
            "{url}: {err}"
        );
        assert!(check_url(url, true).await.is_ok(), "{url} allowed");
    }
    for bad in [
        "ftp://example.com/x",
        "not a url",
        "http://",
        "mailto:ada@initech.com",
    ] {
        let err = check_url(bad, true).await.unwrap_err();
        assert!(
            matches!(
                err,
                CoreError::InvalidInput {
                    field: Some("url"),
                    ..
                }
            ),
            "{bad}: {err}"
        );
    }
}

fn raw_ids(e: &event::Model) -> Value {
    json!({ "sequence": e.sequence })
}

/// Outbound webhooks over the fixture's database, loopback targets allowed.
fn outbound(engine: &Fixture) -> std::sync::Arc<Outbound> {
    let settings = WebhookSettings {
        allow_private: true,
        ..WebhookSettings::default()
    };
    Outbound::new(
        engine.db().clone(),
        Some(SecretBox::ephemeral()),
        settings,
        raw_ids,
    )
    .unwrap()
}

#[tokio::test]
async fn outbound_rotation_signs_with_both_secrets_only_during_the_overlap() {
    let engine = Fixture::new().await;
    let outbound = outbound(&engine);
    let (endpoint, first) = outbound
        .create(
            engine.ws,
            NewEndpoint {
                url: "http://127.0.0.1:9/hook".into(),
                event_types: vec![EventType::TouchpointRecorded],
                description: "CRM sync".into(),
            },
        )
        .await
        .unwrap();
    assert!(!endpoint.secret.contains(&first[6..]), "stored sealed");
    let reveal = |secrets: Vec<SigningSecret>| -> Vec<String> {
        secrets.iter().map(SigningSecret::reveal).collect()
    };
    let now = journeys_core::time::now();
    assert_eq!(
        reveal(outbound.signing_secrets(&endpoint, now).unwrap()),
        vec![first.clone()]
    );

    let (rotated, second) = outbound
        .rotate_secret(engine.ws, endpoint.id, chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_ne!(first, second);
    let now = journeys_core::time::now();
    assert_eq!(
        reveal(outbound.signing_secrets(&rotated, now).unwrap()),
        [second.clone(), first.clone()],
        "both sign during the overlap, the new one first"
    );
    let later = now + chrono::Duration::hours(2);
    assert_eq!(
        reveal(outbound.signing_secrets(&rotated, later).unwrap()),
        vec![second.clone()],
        "only the new one after it"
    );

    let (at_once, third) = outbound
        .rotate_secret(engine.ws, endpoint.id, chrono::Duration::zero())
        .await
        .unwrap();
    assert_eq!(
        reveal(outbound.signing_secrets(&at_once, now).unwrap()),
        [third]
    );
    let err = outbound
        .rotate_secret(engine.ws, endpoint.id, chrono::Duration::days(8))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        CoreError::InvalidInput {
            field: Some("overlapSeconds"),
            ..
        }
    ));
}

/// An attempt made `age` ago to send an event to `endpoint`.
fn attempt(
    engine: &Fixture,
    endpoint: uuid::Uuid,
    age: chrono::Duration,
) -> webhook_delivery::ActiveModel {
    webhook_delivery::ActiveModel {
        id: Set(entity::new_id()),
        workspace_id: Set(engine.ws),
        endpoint_id: Set(endpoint),
        event_id: Set(entity::new_id()),
        event_sequence: Set(1),
        event_type: Set(EventType::TouchpointRecorded),
        attempt: Set(1),
        attempted_at: Set(journeys_core::time::now() - age),
        status_code: Set(Some(200)),
        duration_ms: Set(12),
        error: Set(None),
        succeeded: Set(true),
        redelivery: Set(false),
    }
}

#[tokio::test]
async fn outbound_attempts_older_than_the_retention_are_pruned_with_the_log() {
    let engine = Fixture::new().await;
    let outbound = outbound(&engine);
    let mut endpoints = Vec::new();
    for name in ["CRM", "Data warehouse"] {
        let new = NewEndpoint {
            url: "http://127.0.0.1:9/hook".into(),
            event_types: vec![EventType::TouchpointRecorded],
            description: name.into(),
        };
        endpoints.push(outbound.create(engine.ws, new).await.unwrap().0.id);
    }
    let days = chrono::Duration::days;
    let mut kept = Vec::new();
    for endpoint in &endpoints {
        for age in [days(45), days(31)] {
            attempt(&engine, *endpoint, age)
                .insert(engine.db())
                .await
                .unwrap();
        }
        kept.push(
            attempt(&engine, *endpoint, days(29))
                .insert(engine.db())
                .await
                .unwrap()
                .id,
        );
    }
    let (_, attempts) = retention::prune(engine.db(), days(30)).await.unwrap();
    assert_eq!(attempts, 4);
    let mut left: Vec<_> = webhook_delivery::Entity::find()
        .all(engine.db())
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    left.sort();
    kept.sort();
    assert_eq!(left, kept);
    assert_eq!(
        retention::prune(engine.db(), days(30)).await.unwrap(),
        (0, 0)
    );
}
