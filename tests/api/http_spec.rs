//! `/graphql` as the GraphQL-over-HTTP specification asks, and the other routes.

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const GRJ: &str = "application/graphql-response+json";

async fn post(app: &TestApp, accept: Option<&str>, body: &str) -> (u16, String, Value) {
    let mut req = app
        .client
        .post(app.url("/graphql"))
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_owned());
    if let Some(accept) = accept {
        req = req.header(ACCEPT, accept);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let media = res
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = res.text().await.unwrap();
    (
        status,
        media,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn accept_picks_the_response_media_type() {
    let app = spawn_app().await;
    let query = r#"{"query":"{ __typename }"}"#;
    let (status, media, body) = post(&app, Some(GRJ), query).await;
    assert_eq!(
        (status, body["data"]["__typename"].as_str()),
        (200, Some("Query"))
    );
    assert!(media.starts_with(GRJ), "{media}");
    for accept in [Some("application/json"), Some("*/*"), None] {
        let (status, media, _) = post(&app, accept, query).await;
        assert_eq!(status, 200);
        assert!(
            media.starts_with("application/json"),
            "{accept:?} gave {media}"
        );
        assert!(media.contains("utf-8"));
    }
    let (status, _, _) = post(&app, Some("text/html"), query).await;
    assert_eq!(status, 406);
}

#[tokio::test]
async fn request_errors_are_400_for_the_new_media_type_and_200_for_json() {
    let app = spawn_app().await;
    let cases = [
        r#"{"notquery":"{ __typename }"}"#,
        r#"{"query":0}"#,
        r#"{"query":{"obj":"ect"}}"#,
        r#"{"query":"{ __typename }","operationName":false}"#,
        r#"{"query":"{ __typename }","variables":"string"}"#,
        r#"{"query":"{ __typename }","extensions":["array"]}"#,
        r#"{"query":"{"}"#,
        r#"{"query":"{ notAField }"}"#,
        r#"{"query":"query Q { __typename }","operationName":"Missing"}"#,
    ];
    for body in cases {
        let (status, media, json) = post(&app, Some(GRJ), body).await;
        assert_eq!(status, 400, "{body}: {json}");
        assert!(media.starts_with(GRJ));
        assert!(json.get("data").is_none(), "{body}: data present");
        assert_eq!(
            json["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body}"
        );

        let (status, _, json) = post(&app, Some("application/json"), body).await;
        assert_eq!(status, 200, "{body}");
        assert!(json["errors"].is_array(), "{body}");
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_400_for_either_media_type() {
    let app = spawn_app().await;
    for accept in [GRJ, "application/json"] {
        let (status, media, json) = post(&app, Some(accept), r#"{ "not a JSON"#).await;
        assert_eq!(status, 400, "{accept}: {json}");
        assert!(media.starts_with(accept), "{media}");
        assert_eq!(json["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        assert!(json.get("data").is_none());
    }
}

#[tokio::test]
async fn a_nullable_root_field_that_errors_is_null_in_data() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.admin("acme");
    let body = app
        .gql(
            &token,
            r#"{ account(id: "not-an-id") { id } viewer { workspace } other: node(id: "bad") { id } }"#,
            json!({}),
        )
        .await;
    let data = body["data"].as_object().expect("data");
    let mut keys: Vec<&str> = data.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["account", "other", "viewer"], "{body}");
    assert_eq!(data["account"], Value::Null, "{body}");
    assert_eq!(data["other"], Value::Null, "{body}");
    assert_eq!(data["viewer"]["workspace"], "acme");
    let paths: Vec<&Value> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["path"])
        .collect();
    assert_eq!(paths.len(), 2, "{body}");
    // When the only field fails, `data` still holds it.
    let alone = app
        .gql(&token, r#"{ account(id: "nope") { id } }"#, json!({}))
        .await;
    assert_eq!(alone["data"], json!({ "account": null }), "{alone}");
}

#[tokio::test]
async fn well_formed_parameters_are_accepted() {
    let app = spawn_app().await;
    for body in [
        r#"{"query":"{ __typename }","variables":null,"operationName":null,"extensions":null}"#,
        r#"{"query":"query Q { __typename }","operationName":"Q","extensions":{"some":"value"}}"#,
        r#"{"query":"query T($name: String!) { __type(name: $name) { name } }","variables":{"name":"Account"}}"#,
    ] {
        for accept in [GRJ, "application/json"] {
            let (status, _, json) = post(&app, Some(accept), body).await;
            assert_eq!(status, 200, "{body}");
            assert!(json.get("errors").is_none(), "{body}: {json}");
        }
    }
}

#[tokio::test]
async fn post_needs_a_json_body() {
    let app = spawn_app().await;
    let res = app.client.post(app.url("/graphql")).send().await.unwrap();
    assert_eq!(res.status(), 415);
    let res = app
        .client
        .post(app.url("/graphql"))
        .header(CONTENT_TYPE, "text/plain")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    let res = app
        .client
        .post(app.url("/graphql"))
        .header(CONTENT_TYPE, "application/json; charset=utf-8")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, _, json) = post(&app, Some(GRJ), "").await;
    assert_eq!(status, 400);
    assert!(json["errors"].is_array());
}

#[tokio::test]
async fn get_runs_queries_and_refuses_mutations() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/graphql"))
        .query(&[
            (
                "query",
                "query T($name: String!) { __type(name: $name) { name } }",
            ),
            ("variables", r#"{"name":"Account"}"#),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"]["__type"]["name"], "Account");

    let res = app
        .client
        .get(app.url("/graphql"))
        .header(ACCEPT, GRJ)
        .query(&[("query", "mutation { __typename }")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "POST");

    let res = app.client.put(app.url("/graphql")).send().await.unwrap();
    assert_eq!(res.status(), 405);
}

#[tokio::test]
async fn bodies_over_two_mebibytes_are_refused() {
    let app = spawn_app().await;
    let padding = " ".repeat(2 * 1024 * 1024);
    let body = format!(r#"{{"query":"{{ __typename }}{padding}"}}"#);
    let (status, _, json) = post(&app, Some(GRJ), &body).await;
    assert_eq!(status, 413);
    assert_eq!(json["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}

#[tokio::test]
async fn responses_carry_a_request_id_and_cors_for_allowed_origins() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/graphql"))
        .header("origin", "https://dashboard.example")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://dashboard.example"
    );
    let id = res.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn health_readiness_and_playground_answer() {
    let app = spawn_app().await;
    for (path, needle) in [
        ("/healthz", "ok"),
        ("/readyz", "ready"),
        ("/graphiql", "graphiql"),
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(
            res.text().await.unwrap().to_lowercase().contains(needle),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_playgrounds_introspection_query_runs() {
    let app = spawn_app().await;
    let query = r#"query IntrospectionQuery {
      __schema { queryType { name } mutationType { name } subscriptionType { name }
        types { ...FullType } directives { name description locations args { ...InputValue } } } }
    fragment FullType on __Type { kind name description
      fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
      inputFields { ...InputValue } interfaces { ...TypeRef }
      enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } }
    fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
    fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
      ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } } }"#;
    let (status, _, body) = post(&app, Some(GRJ), &json!({ "query": query }).to_string()).await;
    assert_eq!(status, 200, "{}", body["errors"]);
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
}
