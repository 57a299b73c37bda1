//! Revoked tokens: `revokeToken` (admin) and `journeys token revoke` make
//! every instance refuse a `jti` with UNAUTHENTICATED: the instance that
//! revoked from its next request on, the others within their token cache's
//! lifetime (one second in tests), and a cached token costs no statement.

use std::process::Command;
use std::time::{Duration, Instant};

use journeys_api::auth::{KeySources, Scope, Verifier};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, assert_code, spawn_app, spawn_pair};

const REVOKE: &str =
    "mutation($jti: String!) { revokeToken(input: {jti: $jti}) { jti revokedAt } }";
const VIEWER: &str = "{ viewer { workspace } }";

/// A token of `slug` with these claims' `jti` (none when `None`).
fn token_with(slug: &str, jti: Option<&str>) -> String {
    let mut claims = json!({
        "sub": "tester", "ws": slug, "scope": "admin",
        "exp": chrono::Utc::now().timestamp() + 3600,
    });
    if let Some(jti) = jti {
        claims["jti"] = json!(jti);
    }
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn jti_of(token: &str) -> String {
    let verifier = Verifier::from_sources(&KeySources {
        hs256_secret: Some(SECRET.into()),
        ..Default::default()
    })
    .unwrap();
    verifier
        .verify(token)
        .unwrap()
        .jti
        .expect("minted tokens carry a jti")
}

/// `viewer` with `token`: the status and the body.
async fn viewer(app: &TestApp, token: &str) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": VIEWER }))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// Waits for `app` to refuse `token` as revoked, within a few times its token
/// cache's lifetime.
async fn assert_revoked_soon(app: &TestApp, token: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = viewer(app, token).await;
        if answer.0 == 401 || Instant::now() > deadline {
            assert_revoked(&answer);
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn assert_revoked((status, body): &(u16, Value)) {
    assert_eq!(*status, 401, "{body}");
    assert_code(body, "UNAUTHENTICATED");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("revoked"),
        "{body}"
    );
}

#[tokio::test]
async fn a_revoked_jti_is_refused_by_every_instance() {
    let (one, two) = spawn_pair().await;
    one.workspace("acme").await;
    let admin = one.admin("acme");
    let reader = one.token("acme", &[Scope::Read]);
    let jti = jti_of(&reader);
    assert_eq!(viewer(&two, &reader).await.0, 200);
    let data = one.ok(&admin, REVOKE, json!({ "jti": jti })).await;
    assert_eq!(data["revokeToken"]["jti"], jti);
    // The instance that revoked refuses at once; the other, which had the
    // token cached, within its cache's lifetime.
    assert_revoked(&viewer(&one, &reader).await);
    assert_revoked_soon(&two, &reader).await;
    // The admin's own token is another jti, and still works; revoking again
    // keeps the first revocation.
    let again = one.ok(&admin, REVOKE, json!({ "jti": jti })).await;
    assert_eq!(
        again["revokeToken"]["revokedAt"],
        data["revokeToken"]["revokedAt"]
    );
}

#[tokio::test]
async fn revoking_needs_admin_a_real_jti_and_stays_in_its_workspace() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    app.workspace("other").await;
    let writer = app.token("acme", &[Scope::Read, Scope::Write]);
    let body = app.gql(&writer, REVOKE, json!({ "jti": "x" })).await;
    assert_code(&body, "FORBIDDEN");
    let admin = app.admin("acme");
    for bad in ["", "   ", &"j".repeat(256)] {
        let body = app.gql(&admin, REVOKE, json!({ "jti": bad })).await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "jti");
    }
    app.ok(&admin, REVOKE, json!({ "jti": "shared-jti" })).await;
    assert_revoked(&viewer(&app, &token_with("acme", Some("shared-jti"))).await);
    // Another workspace's token with the same jti is its own.
    assert_eq!(
        viewer(&app, &token_with("other", Some("shared-jti")))
            .await
            .0,
        200
    );
    // A token without a jti cannot be revoked, and is accepted.
    assert_eq!(viewer(&app, &token_with("acme", None)).await.0, 200);
}

#[tokio::test]
async fn a_cached_token_costs_no_statement() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let admin = app.admin("acme");
    app.ok(&admin, REVOKE, json!({ "jti": "gone" })).await;
    let mut costs = Vec::new();
    for token in [token_with("acme", None), token_with("acme", Some("kept"))] {
        app.ok(&token, VIEWER, json!({})).await;
        app.quiet().await;
        let before = app.statements.get();
        app.ok(&token, VIEWER, json!({})).await;
        costs.push(app.statements.get() - before);
    }
    // Only the viewer's own read: the workspace and revocation are cached.
    assert_eq!(costs, vec![1, 1]);
}

fn journeys(database_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_journeys"));
    cmd.env("DATABASE_URL", database_url)
        .env("JOURNEYS_LOG", "warn");
    cmd
}

#[tokio::test]
async fn the_cli_revokes_in_one_workspace_or_in_all() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    app.workspace("other").await;
    let out = journeys(&app.database_url)
        .args(["token", "revoke", "--jti", "leaked", "--workspace", "acme"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_revoked(&viewer(&app, &token_with("acme", Some("leaked"))).await);
    assert_eq!(
        viewer(&app, &token_with("other", Some("leaked"))).await.0,
        200
    );
    let out = journeys(&app.database_url)
        .args(["token", "revoke", "--jti", "leaked"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The server had that token cached: another process revoked it.
    assert_revoked_soon(&app, &token_with("other", Some("leaked"))).await;
    let out = journeys(&app.database_url)
        .args(["token", "revoke", "--jti", "x", "--workspace", "nowhere"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
