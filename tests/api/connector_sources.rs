//! Each connector is its own source: two connectors of one kind (two Zendesk
//! subdomains) keep their tickets and organisations apart, and a webhook is
//! matched to its own connector's pull.

use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::connectors::{
    EXPORT, counts, create, export_page, no_events_or_ratings, sync, ticket, user, zendesk_input,
};
use crate::helpers::{TestApp, create_account, spawn_app};
use crate::webhooks::{post, ticket_event, zendesk_signature};

/// A Zendesk subdomain whose export holds tickets 1 and 2 of `requester`,
/// both in its organization 9001.
async fn subdomain(requester: Value) -> MockServer {
    let server = MockServer::start().await;
    let id = requester["id"].as_u64().unwrap();
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(ResponseTemplate::new(200).set_body_json(export_page(
            vec![ticket(1, "open", id, 2), ticket(2, "open", id, 3)],
            vec![requester],
            "c1",
            true,
        )))
        .mount(&server)
        .await;
    no_events_or_ratings(&server).await;
    server
}

/// A connector's touchpoints, by `connectorId`, with where each landed.
async fn touchpoints_of(app: &TestApp, token: &str, connector: &str) -> Vec<Value> {
    let data = app
        .ok(
            token,
            r#"query($c: ID!) { touchpoints(filter: {connectorId: $c}, first: 50) {
                totalCount nodes { externalId connectorId source updatedAt
                                   stakeholder { name } account { name } } } }"#,
            json!({ "c": connector }),
        )
        .await;
    let mut nodes = data["touchpoints"]["nodes"].as_array().unwrap().clone();
    assert_eq!(data["touchpoints"]["totalCount"], nodes.len(), "{data}");
    nodes.sort_by_key(|t| t["externalId"].as_str().unwrap().to_owned());
    nodes
}

#[tokio::test]
async fn two_connectors_of_one_kind_keep_their_tickets_and_organisations_apart() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    create_account(&app, &token, "Acme", &["acme.example"]).await;
    create_account(&app, &token, "Globex", &["globex.example"]).await;
    // Both subdomains number their tickets and organizations from the same
    // place: ticket 1 and organization 9001 are different things in each.
    // (People are one person across sources, found by identity.)
    let brand_a = subdomain(user(501, "Ana Souza", "ana@acme.example")).await;
    let brand_b = subdomain(user(601, "Bo Lind", "bo@globex.example")).await;
    let a = create(&app, &token, zendesk_input(&brand_a)).await;
    let mut input_b = zendesk_input(&brand_b);
    input_b["name"] = json!("Support B");
    let b = create(&app, &token, input_b).await;
    let hook_b = b["webhookPath"].as_str().unwrap().to_owned();
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());

    let run_a = sync(&app, &token, a).await;
    let run_b = sync(&app, &token, b).await;
    assert_eq!(counts(&run_a), [2, 2, 0, 0, 0, 3], "{run_a}");
    // Today's bug: the second sync found the first one's tickets.
    assert_eq!(counts(&run_b), [2, 2, 0, 0, 0, 3], "{run_b}");

    let of_a = touchpoints_of(&app, &token, a).await;
    let of_b = touchpoints_of(&app, &token, b).await;
    let landed = |rows: &[Value]| -> Vec<(String, String, String)> {
        rows.iter()
            .map(|t| {
                assert_eq!(t["source"], "zendesk");
                (
                    t["externalId"].as_str().unwrap().to_owned(),
                    t["stakeholder"]["name"].as_str().unwrap().to_owned(),
                    t["account"]["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let expect = |who: &str, account: &str| {
        ["ticket:1:opened", "ticket:2:opened"]
            .map(|e| (e.to_owned(), who.to_owned(), account.to_owned()))
    };
    assert_eq!(landed(&of_a), expect("Ana Souza", "Acme"));
    assert_eq!(landed(&of_b), expect("Bo Lind", "Globex"));
    assert!(of_a.iter().all(|t| t["connectorId"] == a));
    assert!(of_b.iter().all(|t| t["connectorId"] == b));
    let by_kind = app
        .ok(
            &token,
            r#"{ touchpoints(filter: {source: "zendesk"}, first: 1) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(by_kind["touchpoints"]["totalCount"], 4, "{by_kind}");

    // Subdomain B's webhook for its ticket 1 is the ticket B's pull recorded:
    // nothing new, nothing rewritten, and A's ticket 1 untouched.
    let body = ticket_event("zen:event-type:ticket.created", 1, "OPEN", 2, json!({}))
        .replace("\"501\"", "\"601\"");
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, reply) = post(&app, &hook_b, &body, &now, &zendesk_signature(&now, &body)).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply, json!({ "received": 1, "failed": 0 }));
    assert_eq!(touchpoints_of(&app, &token, b).await, of_b);
    assert_eq!(touchpoints_of(&app, &token, a).await, of_a);

    // B's organization 9001 is Globex: a new B requester whose email domain
    // no account owns lands there, not in A's organization 9001 (Acme).
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("cursor", "c1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(export_page(
            vec![ticket(3, "open", 503, 5)],
            vec![user(503, "Cy Ng", "cy@mail.example")],
            "c2",
            true,
        )))
        .with_priority(1)
        .mount(&brand_b)
        .await;
    let again = sync(&app, &token, b).await;
    assert_eq!(counts(&again), [1, 1, 0, 0, 0, 3], "{again}");
    let of_b = touchpoints_of(&app, &token, b).await;
    assert_eq!(
        landed(&of_b[2..]),
        [(
            "ticket:3:opened".to_owned(),
            "Cy Ng".to_owned(),
            "Globex".to_owned()
        )]
    );
}
