//! Vendor pacing to the letter, through real syncs: Zendesk's incremental
//! export allowance (10 requests a minute) counted as requests are sent,
//! retries included, across back-to-back runs; and a 503's `Retry-After`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::connectors::{
    TICKET_EVENTS, counts, create, export_page, no_ratings, sync, ticket, user, zendesk_input,
};
use crate::helpers::{create_account, spawn_app};

/// Zendesk's two incremental exports, which share one allowance. The ticket
/// export as Zendesk pages it: the page after cursor `cK` holds ticket K+1;
/// pages end their stream at tickets 6 and 10 (so a first run stops after 6,
/// the next goes on from there). The ticket events export is empty. Notes
/// when each request to either arrived, and answers one of them (by arrival,
/// from 1) with a status of its own.
struct Export {
    arrivals: Arc<Mutex<Vec<Instant>>>,
    fault: Option<(usize, ResponseTemplate)>,
}

impl Respond for Export {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let arrival = {
            let mut arrivals = self.arrivals.lock().unwrap();
            arrivals.push(Instant::now());
            arrivals.len()
        };
        if let Some((n, fault)) = &self.fault
            && *n == arrival
        {
            return fault.clone();
        }
        if request.url.path() == TICKET_EVENTS {
            return ResponseTemplate::new(200).set_body_json(json!({
                "ticket_events": [], "end_time": null, "end_of_stream": true
            }));
        }
        let after: u64 = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "cursor")
            .map_or(0, |(_, c)| c.trim_start_matches('c').parse().unwrap());
        let next = after + 1;
        ResponseTemplate::new(200).set_body_json(export_page(
            vec![ticket(next, "open", 501, 2)],
            vec![user(501, "Ana Souza", "ana@acme.example")],
            &format!("c{next}"),
            next == 6 || next == 10,
        ))
    }
}

async fn zendesk(
    fault: Option<(usize, ResponseTemplate)>,
) -> (MockServer, Arc<Mutex<Vec<Instant>>>) {
    let server = MockServer::start().await;
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("GET"))
        .and(path_regex("^/api/v2/incremental/"))
        .respond_with(Export {
            arrivals: Arc::clone(&arrivals),
            fault,
        })
        .mount(&server)
        .await;
    no_ratings(&server).await;
    (server, arrivals)
}

/// The most requests that arrived within any span shorter than `window`.
fn busiest(arrivals: &[Instant], window: Duration) -> usize {
    (0..arrivals.len())
        .map(|i| {
            arrivals[i..]
                .iter()
                .take_while(|t| **t - arrivals[i] < window)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test]
async fn zendesk_exports_stay_within_ten_a_minute_retries_and_runs_included() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    create_account(&app, &token, "Acme", &["acme.example"]).await;
    // The third request meets the export's own limit.
    let limited = ResponseTemplate::new(429)
        .insert_header("retry-after", "1")
        .set_body_json(json!({ "error": "APIRateLimitExceeded", "description": "Number of allowed incremental export API requests per minute exceeded" }));
    let (server, arrivals) = zendesk(Some((3, limited))).await;
    let mut input = zendesk_input(&server);
    input["config"]["export_requests_per_minute"] = json!(10);
    let id = create(&app, &token, input).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Six pages, a retry and the events, then at once the next run's four
    // pages and the events: thirteen export requests.
    let first = sync(&app, &token, &id).await;
    assert_eq!(first["status"], "SUCCEEDED", "{first}");
    assert_eq!(counts(&first)[..2], [6, 6], "{first}");
    let second = sync(&app, &token, &id).await;
    assert_eq!(second["status"], "SUCCEEDED", "{second}");
    assert_eq!(counts(&second)[..2], [4, 4], "{second}");

    let arrivals = arrivals.lock().unwrap().clone();
    assert_eq!(arrivals.len(), 13, "ten pages, one retry, two event pages");
    assert_eq!(busiest(&arrivals, Duration::from_secs(60)), 10);
    // The eleventh waited for the first to leave the window.
    assert!(arrivals[10] - arrivals[0] >= Duration::from_secs(60));
}

#[tokio::test]
async fn a_503_with_retry_after_is_retried_after_it() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let unavailable = ResponseTemplate::new(503).insert_header("retry-after", "2");
    let (server, arrivals) = zendesk(Some((1, unavailable))).await;
    let id = create(&app, &token, zendesk_input(&server)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = sync(&app, &token, &id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    let arrivals = arrivals.lock().unwrap().clone();
    let waited = arrivals[1] - arrivals[0];
    // The test policy's own backoff is milliseconds: the 2 s are Zendesk's.
    assert!(waited >= Duration::from_secs(2), "retried after {waited:?}");
    assert!(waited < Duration::from_secs(4), "retried after {waited:?}");
}
