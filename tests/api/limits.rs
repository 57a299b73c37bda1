//! Query cost: abusive queries are refused with QUERY_TOO_COMPLEX, naming the
//! limit, before any database statement; a response that outgrows its cap is
//! stopped; and a real `journeys serve` under such requests stays small.

use serde_json::{Value, json};

use crate::helpers::{
    ServeProcess, ServerSettings, TestApp, assert_code, spawn_app, spawn_app_with_settings,
};

/// `n` aliases of `field`, as one query.
fn aliases(n: usize, field: &str) -> String {
    let body: String = (0..n).map(|i| format!("a{i}: {field} ")).collect();
    format!("{{ {body} }}")
}

/// The refusal's message, after checking it is QUERY_TOO_COMPLEX and that
/// the request ran no statement.
async fn refused_before_any_statement(app: &TestApp, token: &str, query: &str) -> String {
    app.quiet().await;
    let before = app.statements.get();
    let body = app.gql(token, query, json!({})).await;
    assert_code(&body, "QUERY_TOO_COMPLEX");
    assert!(body.get("data").is_none(), "{body:.300}");
    assert_eq!(
        app.statements.get(),
        before,
        "statements ran for {query:.80}"
    );
    body["errors"][0]["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn aliases_fields_and_costly_pages_are_refused_before_any_statement() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    app.ok(&token, "{ viewer { workspace } }", json!({})).await;

    let message =
        refused_before_any_statement(&app, &token, &aliases(10_000, "viewer { workspace }")).await;
    assert!(message.contains("more than 100 aliases"), "{message}");
    let message = refused_before_any_statement(
        &app,
        &token,
        &aliases(10_000, "accounts(first: 1) { totalCount }"),
    )
    .await;
    assert!(message.contains("more than 100 aliases"), "{message}");
    let fields = "workspace ".repeat(25_000);
    let message =
        refused_before_any_statement(&app, &token, &format!("{{ viewer {{ {fields} }} }}")).await;
    assert!(message.contains("more than 5000 selections"), "{message}");
    // Sixty root fields without aliases, through a fragment.
    let spreads = "...V ".repeat(60);
    let message = refused_before_any_statement(
        &app,
        &token,
        &format!("{{ {spreads} }} fragment V on Query {{ viewer {{ workspace }} }}"),
    )
    .await;
    assert!(message.contains("more than 50 root fields"), "{message}");
    // A page of pages: 500 accounts times 500 touchpoints.
    let message = refused_before_any_statement(
        &app,
        &token,
        "{ accounts(first: 500) { nodes { name touchpoints(first: 500) { nodes { kind } } } } }",
    )
    .await;
    assert!(message.contains("more than 50000"), "{message}");
    // Thirty thousand aliases without a token are refused alike.
    let body = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": aliases(30_000, "__typename") }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_code(&body, "QUERY_TOO_COMPLEX");
    // What stays under the limits runs.
    app.ok(&token, &aliases(50, "viewer { workspace }"), json!({}))
        .await;
}

#[tokio::test]
async fn the_parsers_recursion_refusals_are_query_too_complex() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    app.ok(&token, "{ viewer { workspace } }", json!({})).await;
    // Fifty fragments deep, each a spread and an inline fragment.
    let fragments: String = (0..50)
        .map(|i| {
            format!(
                "fragment F{i} on Query {{ ... on Query {{ ...F{} }} }} ",
                i + 1
            )
        })
        .collect();
    let query =
        format!("{{ ...F0 }} {fragments} fragment F50 on Query {{ viewer {{ workspace }} }}");
    let message = refused_before_any_statement(&app, &token, &query).await;
    assert!(message.contains("more than 64 deep"), "{message}");
    // A hundred `ofType`s deep: more than the parser nests.
    let mut chain = String::from("name");
    for _ in 0..100 {
        chain = format!("ofType {{ {chain} }}");
    }
    let query = format!("{{ __type(name: \"Account\") {{ {chain} }} }}");
    let message = refused_before_any_statement(&app, &token, &query).await;
    assert!(message.contains("more than 64 deep"), "{message}");
    // The new media type gets a 400, as for any request error.
    let res = app
        .client
        .post(app.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .bearer_auth(&token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn a_response_over_its_cap_is_stopped_with_one_error() {
    let app = spawn_app_with_settings(ServerSettings {
        query: journeys_api::graphql::limits::QueryLimits {
            max_response_bytes: 2_000,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    for i in 0..40 {
        let name = format!("Account {i:02} {}", "x".repeat(60));
        crate::helpers::create_account(&app, &token, &name, &[]).await;
    }
    let body = app
        .gql(
            &token,
            "{ accounts(first: 40) { nodes { name } } }",
            json!({}),
        )
        .await;
    assert_code(&body, "QUERY_TOO_COMPLEX");
    assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("larger than 2000 bytes"), "{message}");
    assert!(body.get("data").is_none(), "{body}");
    // A page that fits is answered in full.
    let data = app
        .ok(
            &token,
            "{ accounts(first: 10) { nodes { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["accounts"]["nodes"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn four_ten_thousand_alias_requests_leave_a_real_server_small_and_healthy() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let server = ServeProcess::start(&app.database_url).await;
    let client = reqwest::Client::new();
    let url = format!("http://{}/graphql", server.addr);
    let queries = [
        aliases(10_000, "viewer { workspace }"),
        aliases(10_000, "accounts(first: 1) { totalCount }"),
        aliases(10_000, "viewer { workspace }"),
        aliases(10_000, "accounts(first: 1) { totalCount }"),
    ];
    let requests = queries.iter().map(|query| {
        client
            .post(&url)
            .bearer_auth(&token)
            .json(&json!({ "query": query }))
            .send()
    });
    for res in futures_util::future::join_all(requests).await {
        let body: Value = res.unwrap().json().await.unwrap();
        assert_code(&body, "QUERY_TOO_COMPLEX");
    }
    let health = client
        .get(format!("http://{}/healthz", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let peak = server.peak_rss();
    assert!(peak < 100 * 1024 * 1024, "peak RSS {} MiB", peak >> 20);
}
