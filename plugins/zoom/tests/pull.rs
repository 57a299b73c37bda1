//! The Zoom connector's pull against a Zoom look-alike on loopback.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::Utc;
use common::*;
use journeys_plugin_sdk::{
    AccountHint, Channel, Connector, HttpClient, PersonHint, PullError, RetryPolicy, Touchpoint,
    plugin,
};
use journeys_plugin_zoom::{Cursor, PageToken, Step, Zoom};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn find<'a>(batches: &'a [Vec<Touchpoint>], external_id: &str) -> &'a Touchpoint {
    batches
        .iter()
        .flatten()
        .find(|t| t.external_id == external_id)
        .unwrap_or_else(|| panic!("no touchpoint {external_id}"))
}

fn properties(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    value.as_object().unwrap().clone()
}

#[tokio::test]
async fn a_first_run_pages_through_webinars_registrants_participants_and_absentees() {
    let server = MockServer::start().await;
    mount_scenario(&server).await;
    let mut zoom = zoom(&server);

    let (batches, cursor) = drain(&mut zoom, Cursor::default()).await;

    assert_eq!(ids(&batches), scenario_batches());
    assert_eq!(
        find(&batches, &format!("registered:{LAUNCH}:{JILL}")),
        &Touchpoint {
            external_id: format!("registered:{LAUNCH}:{JILL}"),
            kind: "webinar.registered".into(),
            channel: Channel::Webinar,
            occurred_at: at("2024-01-20T09:15:00Z"),
            title: Some("Launch".into()),
            body: None,
            url: None,
            score: None,
            properties: properties(json!({
                "webinar_id": LAUNCH,
                "webinar_topic": "Launch",
                "industry": "Food",
                "purchasing_time_frame": "1-3 months",
                "role_in_purchase_process": "Influencer",
                "no_of_employees": "1-20",
                "custom_questions": [{"title": "What do you hope to learn?", "value": "New recipes"}]
            })),
            person: PersonHint {
                email: Some("jchill@example.com".into()),
                zoom_registrant_id: Some(JILL.into()),
                name: Some("Jill Chill".into()),
                title: Some("Head Chef".into()),
                ..PersonHint::default()
            },
            account: Some(AccountHint {
                external_id: None,
                name: Some("Cooking Org".into()),
            }),
            owner_team: None,
            actor: None,
        }
    );
    // Unanswered questions (empty strings) are left out.
    let bob = find(&batches, &format!("registered:{LAUNCH}:{BOB}"));
    assert_eq!(
        bob.properties,
        properties(json!({"webinar_id": LAUNCH, "webinar_topic": "Launch"}))
    );
    assert_eq!(bob.account, None);
    assert_eq!(bob.person.title, None);

    // Jill's two stays, on two pages, fold into one: 1200 s + 910 s ≈ 35 min.
    let jill = find(&batches, &format!("attended:{LAUNCH}:registrant:{JILL}"));
    assert_eq!(jill.kind, "webinar.attended");
    assert_eq!(jill.channel, Channel::Webinar);
    assert_eq!(jill.occurred_at, at("2024-02-01T12:01:00Z"));
    assert_eq!(
        jill.properties,
        properties(json!({
            "webinar_id": LAUNCH,
            "webinar_topic": "Launch",
            "minutes_attended": 35,
            "stays": 2
        }))
    );
    assert_eq!(
        jill.person,
        PersonHint {
            email: Some("jchill@example.com".into()),
            zoom_registrant_id: Some(JILL.into()),
            name: Some("Jill Chill".into()),
            ..PersonHint::default()
        }
    );
    let guest = find(
        &batches,
        &format!("attended:{LAUNCH}:email:dan@guest.example"),
    );
    assert_eq!(guest.person.email.as_deref(), Some("Dan@Guest.example"));
    assert_eq!(guest.person.zoom_registrant_id, None);
    assert_eq!(guest.properties["minutes_attended"], 10);
    let phone = find(&batches, &format!("attended:{LAUNCH}:name:Phone User"));
    assert_eq!(phone.person.email, None);
    assert_eq!(phone.person.name.as_deref(), Some("Phone User"));
    // 50 seconds round to a minute.
    assert_eq!(phone.properties["minutes_attended"], 1);
    assert_eq!(phone.occurred_at, at("2024-02-01T12:10:00Z"));

    // Bob missed it, at its start.
    let missed = find(&batches, &format!("missed:{LAUNCH}:{BOB}"));
    assert_eq!(missed.kind, "webinar.missed");
    assert_eq!(missed.occurred_at, at("2024-02-01T12:00:00Z"));
    assert_eq!(missed.person.email.as_deref(), Some("bob@example.com"));
    assert_eq!(missed.person.zoom_registrant_id.as_deref(), Some(BOB));

    let erin = find(&batches, &format!("registered:{ROADMAP}:{ERIN}"));
    assert_eq!(erin.title.as_deref(), Some("Roadmap"));
    assert_eq!(erin.occurred_at, at("2024-03-01T08:00:00Z"));

    // Only the ended webinar is remembered as done; the run is over.
    assert_eq!(
        cursor,
        Cursor {
            synced_webinars: BTreeSet::from([LAUNCH]),
            run: None,
            version: Cursor::VERSION,
        }
    );
    // One token served the whole run.
    let token_requests = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/oauth/token")
        .count();
    assert_eq!(token_requests, 1);
}

#[tokio::test]
async fn empty_pages_end_their_lists() {
    let server = MockServer::start().await;
    token_endpoint("tok-1", 3600).mount(&server).await;
    // A user without webinars.
    page("/users/me/webinars", None)
        .respond_with(zoom_ok(webinar_page("", vec![])))
        .mount(&server)
        .await;
    let mut zoom = zoom(&server);
    let batch = zoom.pull(Cursor::default()).await.unwrap();
    assert!(batch.touchpoints.is_empty());
    assert!(!batch.more);
    let nothing_synced = Cursor {
        version: Cursor::VERSION,
        ..Cursor::default()
    };
    assert_eq!(batch.cursor, nothing_synced);

    // A webinar nobody registered for yet.
    server.reset().await;
    token_endpoint("tok-1", 3600).mount(&server).await;
    mount_no_other_registrants(&server).await;
    page("/users/me/webinars", None)
        .respond_with(zoom_ok(webinar_page(
            "",
            vec![webinar(ROADMAP, "Roadmap", "2099-03-01T17:00:00Z", 45)],
        )))
        .mount(&server)
        .await;
    page(&format!("/webinars/{ROADMAP}/registrants"), None)
        .respond_with(zoom_ok(json!({
            "page_count": 0,
            "page_number": 1,
            "page_size": 300,
            "total_records": 0,
            "next_page_token": "",
            "registrants": []
        })))
        .mount(&server)
        .await;
    let (batches, cursor) = drain(&mut zoom, Cursor::default()).await;
    assert_eq!(ids(&batches), vec![Vec::<String>::new(); 4]);
    assert_eq!(cursor, nothing_synced);
}

#[tokio::test]
async fn an_item_on_two_pages_keeps_one_external_id() {
    let server = MockServer::start().await;
    mount_scenario(&server).await;
    let (batches, _) = drain(&mut zoom(&server), Cursor::default()).await;

    // Bob is on both registrant pages, with the same external id, so the
    // server's upsert on (kind, external id) records him once.
    let bob = format!("registered:{LAUNCH}:{BOB}");
    assert!(batches[1].iter().any(|t| t.external_id == bob));
    assert!(batches[2].iter().any(|t| t.external_id == bob));
    let registered: Vec<&Touchpoint> = batches
        .iter()
        .flatten()
        .filter(|t| t.kind == "webinar.registered")
        .collect();
    assert_eq!(registered.len(), 5);
    let unique: BTreeSet<(&str, &str)> = registered
        .iter()
        .map(|t| (t.kind.as_str(), t.external_id.as_str()))
        .collect();
    assert_eq!(unique.len(), 4);
}

#[tokio::test]
async fn a_rate_limit_waits_until_the_retry_after_date_time() {
    let server = MockServer::start().await;
    // Whole seconds, as Zoom writes it: 1 to 2 s from now.
    let deadline = Utc::now() + chrono::Duration::seconds(2);
    let deadline =
        deadline - chrono::Duration::nanoseconds(deadline.timestamp_subsec_nanos().into());
    let retry_at = deadline.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    page(&format!("/webinars/{LAUNCH}/registrants"), None)
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-ratelimit-category", "Medium")
                .insert_header("x-ratelimit-type", "QPS")
                .insert_header("retry-after", retry_at.as_str())
                .set_body_json(json!({
                    "code": 429,
                    "message": "You have reached the maximum per-second rate limit for this API. Try again later."
                })),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_scenario(&server).await;
    let mut zoom = zoom(&server);
    let listed = zoom.pull(Cursor::default()).await.unwrap();

    let batch = zoom.pull(listed.cursor).await.unwrap();
    // Measured against the date Zoom gave, not a stopwatch started later.
    let returned = Utc::now();
    assert!(
        returned >= deadline,
        "returned at {returned}, before {retry_at}"
    );
    assert_eq!(ids(&[batch.touchpoints]), scenario_batches()[1..2].to_vec());
    let registrant_requests =
        requests_to(&server, &format!("/webinars/{LAUNCH}/registrants")).await;
    assert_eq!(registrant_requests.len(), 2);
}

#[tokio::test]
async fn a_rate_limit_without_retry_after_backs_off_briefly() {
    let server = MockServer::start().await;
    // Two per-second limits in a row, as Zoom sends them, with no Retry-After.
    page("/users/me/webinars", None)
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-ratelimit-category", "Light")
                .insert_header("x-ratelimit-type", "QPS")
                .set_body_json(json!({
                    "code": 429,
                    "message": "You have reached the maximum per-second rate limit for this API. Try again later."
                })),
        )
        .up_to_n_times(2)
        .expect(2)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_scenario(&server).await;
    let started = Instant::now();
    let mut zoom = Zoom::new(
        config(&server),
        secrets(Some(WEBHOOK_SECRET)),
        HttpClient::new(RetryPolicy {
            // The backoff's first waits, not this, apply.
            default_rate_limit_wait: Duration::from_secs(60),
            ..http().policy().clone()
        }),
    )
    .unwrap();
    let batch = zoom.pull(Cursor::default()).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let queued: Vec<i64> = batch
        .cursor
        .run
        .unwrap()
        .queue
        .iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(queued, vec![LAUNCH, ROADMAP]);
}

#[tokio::test]
async fn a_server_error_is_retried() {
    let server = MockServer::start().await;
    page(
        &format!("/past_webinars/{LAUNCH}/participants"),
        Some("pa-2"),
    )
    .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
    .up_to_n_times(1)
    .with_priority(1)
    .mount(&server)
    .await;
    mount_scenario(&server).await;
    let (batches, _) = drain(&mut zoom(&server), Cursor::default()).await;
    assert_eq!(ids(&batches), scenario_batches());
    let jill = find(&batches, &format!("attended:{LAUNCH}:registrant:{JILL}"));
    assert_eq!(jill.properties["minutes_attended"], 35);
}

#[tokio::test]
async fn a_refused_client_secret_is_named() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "reason": "Invalid client_id or client_secret",
            "error": "invalid_client"
        })))
        .mount(&server)
        .await;
    let err = zoom(&server).pull(Cursor::default()).await.unwrap_err();
    assert!(
        matches!(
            err,
            PullError::Unauthorized {
                credential: "client_secret",
                status: 401
            }
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains(CLIENT_SECRET));
}

#[tokio::test]
async fn a_401_on_a_call_renews_the_token_once() {
    let server = MockServer::start().await;
    token_endpoint("tok-0", 3600)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::header("authorization", "Bearer tok-0"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"code": 124, "message": "Invalid access token."})),
        )
        .mount(&server)
        .await;
    mount_scenario(&server).await;
    let (batches, _) = drain(&mut zoom(&server), Cursor::default()).await;
    assert_eq!(ids(&batches), scenario_batches());
    let tokens = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/oauth/token")
        .count();
    assert_eq!(tokens, 2);
}

#[tokio::test]
async fn a_second_401_names_the_app_credentials() {
    let server = MockServer::start().await;
    token_endpoint("tok-1", 3600).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"code": 124, "message": "Invalid access token."})),
        )
        .mount(&server)
        .await;
    let err = zoom(&server).pull(Cursor::default()).await.unwrap_err();
    assert!(
        matches!(
            err,
            PullError::Unauthorized {
                credential: "client_id/client_secret",
                status: 401
            }
        ),
        "{err:?}"
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 4, "token, call, new token, call again");
}

#[tokio::test]
async fn a_short_lived_token_serves_many_calls() {
    let server = MockServer::start().await;
    // 30 s is under the minute's margin: the token is used for 27 s, not
    // replaced before every call.
    token_endpoint("tok-1", 30).mount(&server).await;
    mount_webinar_list(&server).await;
    mount_webinar_data(&server).await;
    let (batches, _) = drain(&mut zoom(&server), Cursor::default()).await;
    assert_eq!(ids(&batches), scenario_batches());
    let requests = server.received_requests().await.unwrap();
    let tokens = requests
        .iter()
        .filter(|r| r.url.path() == "/oauth/token")
        .count();
    assert!(requests.len() - tokens >= 8, "{}", requests.len());
    assert_eq!(tokens, 1);
}

#[tokio::test]
async fn bad_or_truncated_json_is_malformed() {
    for body in ["<html>Bad gateway</html>", r#"{"registrants":[{"id":"#] {
        let server = MockServer::start().await;
        page(&format!("/webinars/{LAUNCH}/registrants"), None)
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .with_priority(1)
            .mount(&server)
            .await;
        mount_scenario(&server).await;
        let mut zoom = zoom(&server);
        let listed = zoom.pull(Cursor::default()).await.unwrap();
        let kept = listed.cursor.clone();
        let err = zoom.pull(listed.cursor).await.unwrap_err();
        match &err {
            PullError::Malformed { endpoint, .. } => {
                assert_eq!(endpoint, &format!("/v2/webinars/{LAUNCH}/registrants"))
            }
            other => panic!("{other:?}"),
        }
        // The caller still holds its cursor: the page is asked for again.
        let again = zoom.pull(kept).await.unwrap_err();
        assert_eq!(again.code(), "CONNECTOR_MALFORMED");
    }
}

#[tokio::test]
async fn a_killed_run_resumes_after_its_last_saved_batch() {
    let server = MockServer::start().await;
    mount_scenario(&server).await;
    let (uninterrupted, _) = drain(&mut zoom(&server), Cursor::default()).await;
    server.reset().await;
    mount_scenario(&server).await;

    // Two batches (the list, the first registrants page), then the process dies.
    let mut first = zoom(&server);
    let listed = first.pull(Cursor::default()).await.unwrap();
    let second = first.pull(saved(&listed.cursor)).await.unwrap();
    assert!(second.more);
    let kept = saved(&second.cursor);
    drop(first);

    let mut resumed = zoom(&server);
    let (rest, cursor) = drain(&mut resumed, kept).await;
    let mut union = ids(&[listed.touchpoints, second.touchpoints]);
    union.extend(ids(&rest));
    assert_eq!(union, ids(&uninterrupted));
    assert_eq!(cursor.synced_webinars, BTreeSet::from([LAUNCH]));
    // The resumed run went on from page 2, without listing webinars again.
    assert_eq!(requests_to(&server, "/users/me/webinars").await.len(), 2);
    // Approved on two pages, pending on two, denied on one: each page once.
    assert_eq!(
        requests_to(&server, &format!("/webinars/{LAUNCH}/registrants"))
            .await
            .len(),
        5
    );
}

#[tokio::test]
async fn an_old_page_token_restarts_its_list() {
    let server = MockServer::start().await;
    mount_scenario(&server).await;
    let mut zoom = zoom(&server);
    let listed = zoom.pull(Cursor::default()).await.unwrap();
    let second = zoom.pull(listed.cursor).await.unwrap();
    let mut kept = saved(&second.cursor);
    let run = kept.run.as_mut().unwrap();
    let Step::Registrants { page: Some(token) } = &mut run.step else {
        panic!("{:?}", run.step)
    };
    assert_eq!(token.token, "ra-2");
    // Saved by a run killed an hour ago: Zoom's token has expired.
    *token = PageToken {
        token: "ra-2".into(),
        received_at: Utc::now() - chrono::Duration::hours(1),
    };

    let batch = zoom.pull(kept).await.unwrap();
    assert_eq!(ids(&[batch.touchpoints]), scenario_batches()[1..2].to_vec());
    let registrant_requests =
        requests_to(&server, &format!("/webinars/{LAUNCH}/registrants")).await;
    assert_eq!(registrant_requests.len(), 2);
    assert!(registrant_requests.iter().all(|r| {
        r.url
            .query_pairs()
            .all(|(name, _)| name != "next_page_token")
    }));
}

#[tokio::test]
async fn a_later_run_skips_synced_webinars_and_fetches_new_ones() {
    let server = MockServer::start().await;
    mount_scenario(&server).await;
    let (_, after_first) = drain(&mut zoom(&server), Cursor::default()).await;

    // Later: the launch is still listed, the roadmap is still upcoming, and
    // a new webinar has ended.
    const DEMO: i64 = 83456789012;
    server.reset().await;
    token_endpoint("tok-1", 3600).mount(&server).await;
    mount_webinar_data(&server).await;
    page("/users/me/webinars", None)
        .respond_with(zoom_ok(webinar_page(
            "",
            vec![
                webinar(LAUNCH, "Launch", "2024-02-01T12:00:00Z", 60),
                webinar(DEMO, "Demo day", "2024-04-10T15:00:00Z", 30),
                webinar(ROADMAP, "Roadmap", "2099-03-01T17:00:00Z", 45),
            ],
        )))
        .mount(&server)
        .await;
    page(&format!("/webinars/{DEMO}/registrants"), None)
        .respond_with(zoom_ok(registrant_page("", vec![bob()])))
        .mount(&server)
        .await;
    page(&format!("/past_webinars/{DEMO}/participants"), None)
        .respond_with(zoom_ok(participant_page(
            "",
            vec![participant(
                BOB,
                "Bob Builder",
                "bob@example.com",
                "2024-04-10T15:02:00Z",
                "2024-04-10T15:30:00Z",
                1680,
            )],
        )))
        .mount(&server)
        .await;
    page(&format!("/past_webinars/{DEMO}/absentees"), None)
        .respond_with(zoom_ok(registrant_page("", vec![])))
        .mount(&server)
        .await;
    page(&format!("/past_webinars/{DEMO}/polls"), None)
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "code": 12702,
            "message": "Polls are disabled for this webinar."
        })))
        .mount(&server)
        .await;

    let (batches, cursor) = drain(&mut zoom(&server), after_first).await;
    assert_eq!(
        ids(&batches),
        vec![
            vec![],
            vec![format!("registered:{DEMO}:{BOB}")],
            vec![],
            vec![],
            vec![format!("attended:{DEMO}:registrant:{BOB}")],
            vec![],
            // No Q&A (404) and no polls (an error): nothing recorded.
            vec![],
            vec![],
            vec![format!("registered:{ROADMAP}:{ERIN}")],
            vec![],
            vec![],
        ]
    );
    assert_eq!(cursor.synced_webinars, BTreeSet::from([LAUNCH, DEMO]));
    // Nothing about the synced launch was fetched again.
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests
            .iter()
            .all(|r| !r.url.path().contains(&LAUNCH.to_string())),
        "{:?}",
        requests.iter().map(|r| r.url.path()).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn an_ended_webinar_without_past_data_is_tried_again_next_run() {
    let server = MockServer::start().await;
    token_endpoint("tok-1", 3600).mount(&server).await;
    mount_no_other_registrants(&server).await;
    page("/users/me/webinars", None)
        .respond_with(zoom_ok(webinar_page(
            "",
            vec![webinar(LAUNCH, "Launch", "2024-02-01T12:00:00Z", 60)],
        )))
        .mount(&server)
        .await;
    page(&format!("/webinars/{LAUNCH}/registrants"), None)
        .respond_with(zoom_ok(registrant_page("", vec![bob()])))
        .mount(&server)
        .await;
    page(&format!("/past_webinars/{LAUNCH}/participants"), None)
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "code": 3001,
            "message": format!("Webinar {LAUNCH} not found or has expired.")
        })))
        .mount(&server)
        .await;
    let mut zoom = zoom(&server);
    let (batches, cursor) = drain(&mut zoom, Cursor::default()).await;
    assert_eq!(
        ids(&batches),
        vec![
            vec![],
            vec![format!("registered:{LAUNCH}:{BOB}")],
            vec![],
            vec![],
            vec![]
        ]
    );
    assert_eq!(
        cursor,
        Cursor {
            version: Cursor::VERSION,
            ..Cursor::default()
        }
    );
    assert!(
        requests_to(&server, &format!("/past_webinars/{LAUNCH}/absentees"))
            .await
            .is_empty()
    );
    // The next run asks again.
    drain(&mut zoom, cursor).await;
    assert_eq!(
        requests_to(&server, &format!("/past_webinars/{LAUNCH}/participants"))
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn pending_and_denied_registrations_are_touchpoints() {
    let server = MockServer::start().await;
    mount_scenario(&server).await;
    let (batches, _) = drain(&mut zoom(&server), Cursor::default()).await;

    let pat = find(&batches, &format!("registration_pending:{LAUNCH}:{PAT}"));
    assert_eq!(
        pat,
        &Touchpoint {
            external_id: format!("registration_pending:{LAUNCH}:{PAT}"),
            kind: "webinar.registration_pending".into(),
            channel: Channel::Webinar,
            occurred_at: at("2024-01-25T14:00:00Z"),
            title: Some("Launch".into()),
            body: None,
            url: None,
            score: None,
            properties: properties(json!({"webinar_id": LAUNCH, "webinar_topic": "Launch"})),
            person: PersonHint {
                email: Some("pat@example.com".into()),
                zoom_registrant_id: Some(PAT.into()),
                name: Some("Pat Pending".into()),
                ..PersonHint::default()
            },
            account: Some(AccountHint {
                external_id: None,
                name: Some("Pat Co".into()),
            }),
            owner_team: None,
            actor: None,
        }
    );
    let dora = find(&batches, &format!("registration_denied:{LAUNCH}:{DORA}"));
    assert_eq!(dora.kind, "webinar.registration_denied");
    assert_eq!(dora.occurred_at, at("2024-01-27T16:00:00Z"));
    assert_eq!(dora.person.email.as_deref(), Some("dora@example.com"));

    // Pat is on both pending pages, the same touchpoint under one id.
    let pats: Vec<&Touchpoint> = batches
        .iter()
        .flatten()
        .filter(|t| t.person.zoom_registrant_id.as_deref() == Some(PAT))
        .collect();
    assert_eq!(pats.len(), 2);
    assert_eq!(pats[0], pats[1]);
    // Each list was asked for with its status.
    let pending = requests_to(&server, &format!("/webinars/{LAUNCH}/registrants")).await;
    let statuses: Vec<Option<String>> = pending
        .iter()
        .map(|r| {
            r.url
                .query_pairs()
                .find(|(name, _)| name == "status")
                .map(|(_, value)| value.into_owned())
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            None,
            None,
            Some("pending".into()),
            Some("pending".into()),
            Some("denied".into())
        ]
    );
}

#[tokio::test]
async fn questions_and_poll_answers_are_touchpoints() {
    let server = MockServer::start().await;
    mount_scenario(&server).await;
    let (batches, _) = drain(&mut zoom(&server), Cursor::default()).await;

    let asked = find(
        &batches,
        &format!("question_asked:{LAUNCH}:jchill@example.com:{RECORDING}"),
    );
    assert_eq!(
        asked,
        &Touchpoint {
            external_id: format!("question_asked:{LAUNCH}:jchill@example.com:{RECORDING}"),
            kind: "webinar.question_asked".into(),
            channel: Channel::Webinar,
            // Zoom gives no time: the webinar's start.
            occurred_at: at("2024-02-01T12:00:00Z"),
            title: Some("Launch".into()),
            body: None,
            url: None,
            score: None,
            properties: properties(json!({
                "webinar_id": LAUNCH,
                "webinar_topic": "Launch",
                "question": "Will there be a recording?",
                "answer": "Yes, tomorrow."
            })),
            person: PersonHint {
                email: Some("JChill@example.com".into()),
                name: Some("Jill Chill".into()),
                ..PersonHint::default()
            },
            account: None,
            owner_team: None,
            actor: None,
        }
    );
    // Unanswered: no answer; the anonymous question is left out.
    let free_tier = find(
        &batches,
        &format!("question_asked:{LAUNCH}:jchill@example.com:{FREE_TIER}"),
    );
    assert_eq!(free_tier.properties.get("answer"), None);
    assert!(
        batches
            .iter()
            .flatten()
            .all(|t| t.person.name.as_deref() != Some("Anonymous Attendee"))
    );
    // Jill's first question, on both pages, is one touchpoint.
    let repeats: Vec<&Touchpoint> = batches
        .iter()
        .flatten()
        .filter(|t| t.external_id == asked.external_id)
        .collect();
    assert_eq!(repeats.len(), 2);
    assert_eq!(repeats[0], repeats[1]);

    let heard = find(
        &batches,
        &format!("poll_answered:{LAUNCH}:pl-1:jchill@example.com:{HEARD_OF_US}"),
    );
    assert_eq!(heard.kind, "webinar.poll_answered");
    assert_eq!(heard.occurred_at, at("2024-02-01T12:30:05Z"));
    assert_eq!(
        heard.properties,
        properties(json!({
            "webinar_id": LAUNCH,
            "webinar_topic": "Launch",
            "poll_id": "pl-1",
            "question": "How did you hear of us?",
            "answer": "Twitter;A friend"
        }))
    );
    assert_eq!(heard.person.email.as_deref(), Some("jchill@example.com"));
    let rated = find(
        &batches,
        &format!("poll_answered:{LAUNCH}:pl-2:jchill@example.com:{RATE_THE_DEMO}"),
    );
    assert_eq!(rated.occurred_at, at("2024-02-01T12:45:00Z"));
    let bobs = find(
        &batches,
        &format!("poll_answered:{LAUNCH}:pl-1:bob@example.com:{HEARD_OF_US}"),
    );
    assert_eq!(bobs.occurred_at, at("2024-02-01T12:00:00Z"));
    assert_eq!(bobs.person.name.as_deref(), Some("Bob Builder"));
}

#[tokio::test]
async fn a_run_stopped_after_any_batch_resumes_without_asking_again() {
    let server = MockServer::start().await;
    mount_scenario(&server).await;
    let (uninterrupted, _) = drain(&mut zoom(&server), Cursor::default()).await;
    for stop_after in 1..uninterrupted.len() {
        server.reset().await;
        mount_scenario(&server).await;
        let mut first = zoom(&server);
        let mut cursor = Cursor::default();
        let mut before = Vec::new();
        for _ in 0..stop_after {
            let batch = first.pull(cursor).await.unwrap();
            assert!(batch.more);
            before.push(batch.touchpoints);
            cursor = saved(&batch.cursor);
        }
        drop(first);
        let asked_before = api_requests(&server).await;

        let (rest, _) = drain(&mut zoom(&server), cursor).await;
        let mut union = ids(&before);
        union.extend(ids(&rest));
        assert_eq!(union, ids(&uninterrupted), "stopped after {stop_after}");
        let asked_after = api_requests(&server).await;
        for request in &asked_after[asked_before.len()..] {
            assert!(
                !asked_before.contains(request),
                "stopped after {stop_after}: {request} asked again"
            );
        }
    }
}

#[tokio::test]
async fn an_older_cursor_still_reads_and_revisits_synced_webinars_once() {
    let server = MockServer::start().await;
    mount_scenario(&server).await;
    // As saved before pending and denied registrants were synced.
    let old: Cursor = serde_json::from_value(json!({
        "synced_webinars": [LAUNCH],
        "run": {
            "queue": [{"id": ROADMAP, "topic": "Roadmap", "started_at": null}],
            "step": {"phase": "registrants", "page": null}
        }
    }))
    .unwrap();
    assert_eq!(old.version, 0);
    // The run under way ends with the new lists.
    let (batches, cursor) = drain(&mut zoom(&server), old).await;
    assert_eq!(
        ids(&batches),
        scenario_batches()[ROADMAP_BATCHES..].to_vec()
    );
    assert_eq!(cursor.synced_webinars, BTreeSet::from([LAUNCH]));
    // The next run visits the launch again for them, and only once.
    let (batches, cursor) = drain(&mut zoom(&server), cursor).await;
    assert_eq!(ids(&batches), scenario_batches());
    assert_eq!(cursor.version, Cursor::VERSION);
    let (batches, _) = drain(&mut zoom(&server), cursor).await;
    let mut upcoming_only = vec![vec![]];
    upcoming_only.extend(scenario_batches()[ROADMAP_BATCHES..].to_vec());
    assert_eq!(ids(&batches), upcoming_only);
}

#[test]
fn unusable_settings_are_refused_by_name() {
    let plugin = plugin::<Zoom>();
    let http = http();
    let config = json!({
        "base_url": "https://api.zoom.us/v2",
        "oauth_url": "https://zoom.us/oauth/token",
        "account_id": ACCOUNT_ID,
        "user_id": "me"
    });
    let secrets = json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET});
    assert!(plugin.build(&config, &secrets, http.clone()).is_ok());

    let mut bad = config.clone();
    bad["base_url"] = json!("api.zoom.us/v2");
    let err = plugin.build(&bad, &secrets, http.clone()).err().unwrap();
    assert!(err.contains("base_url"), "{err}");
    let mut bad = config.clone();
    bad["oauth_url"] = json!("ftp://zoom.us/oauth/token");
    let err = plugin.build(&bad, &secrets, http.clone()).err().unwrap();
    assert!(err.contains("oauth_url"), "{err}");
    let mut bad = config.clone();
    bad["account_id"] = json!("  ");
    let err = plugin.build(&bad, &secrets, http.clone()).err().unwrap();
    assert!(err.contains("account_id"), "{err}");
    let mut bad = config.clone();
    bad["webinar_id"] = json!("1");
    let err = plugin.build(&bad, &secrets, http.clone()).err().unwrap();
    assert!(err.contains("unknown field `webinar_id`"), "{err}");

    let err = plugin
        .build(
            &config,
            &json!({"client_id": CLIENT_ID, "client_secret": ""}),
            http.clone(),
        )
        .err()
        .unwrap();
    assert!(err.contains("client_secret"), "{err}");
    let err = plugin
        .build(
            &config,
            &json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "webhook_secret_token": ""}),
            http,
        )
        .err()
        .unwrap();
    assert!(err.contains("webhook_secret_token"), "{err}");

    let schema = plugin.secrets_schema();
    assert_eq!(
        schema["required"],
        json!(["client_id", "client_secret"]),
        "{schema}"
    );
}
