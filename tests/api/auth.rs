//! Authentication and workspace confinement.

use std::path::PathBuf;

use journeys_api::auth::{KeySources, Scope};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, assert_code, create_account, spawn_app, spawn_app_with};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keys")
        .join(name)
}

fn claims(ws: &str, exp_in_secs: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "sub": "tester", "ws": ws, "scope": "journeys:read", "exp": now + exp_in_secs })
}

fn sign(alg: Algorithm, key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn private_key(alg: Algorithm) -> EncodingKey {
    match alg {
        Algorithm::RS256 => {
            EncodingKey::from_rsa_pem(&std::fs::read(fixture("rsa_private.pem")).unwrap())
        }
        Algorithm::ES256 => {
            EncodingKey::from_ec_pem(&std::fs::read(fixture("ec_private.pem")).unwrap())
        }
        Algorithm::EdDSA => {
            EncodingKey::from_ed_pem(&std::fs::read(fixture("ed_private.pem")).unwrap())
        }
        _ => unreachable!(),
    }
    .unwrap()
}

/// POSTs `{ viewer { workspace } }` with a raw Authorization value.
async fn viewer_with(app: &TestApp, authorization: Option<&str>) -> (u16, Value) {
    let mut req = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ viewer { workspace } }" }));
    if let Some(value) = authorization {
        req = req.header("authorization", value);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test]
async fn without_a_token_only_introspection_runs() {
    let app = spawn_app().await;
    let (status, body) = viewer_with(&app, None).await;
    assert_eq!(status, 200);
    assert_code(&body, "UNAUTHENTICATED");
    let (_, body) = {
        let res = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .unwrap();
        (res.status(), res.json::<Value>().await.unwrap())
    };
    assert_eq!(body, json!({ "data": { "__typename": "Query" } }));
}

#[tokio::test]
async fn bad_tokens_are_refused_with_401() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let hs = EncodingKey::from_secret(SECRET.as_bytes());
    let expired = sign(Algorithm::HS256, &hs, None, &claims("acme", -3600));
    let wrong_secret = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(b"another-secret-another-secret-0000"),
        None,
        &claims("acme", 3600),
    );
    let wrong_alg = sign(
        Algorithm::RS256,
        &private_key(Algorithm::RS256),
        None,
        &claims("acme", 3600),
    );
    let mut no_exp = claims("acme", 0);
    no_exp.as_object_mut().unwrap().remove("exp");
    let missing_exp = sign(Algorithm::HS256, &hs, None, &no_exp);
    let unsigned = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.",
            b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(claims("acme", 3600).to_string())
        )
    };
    let unknown_ws = sign(Algorithm::HS256, &hs, None, &claims("nowhere", 3600));
    let mut ahead = claims("acme", 3600);
    ahead["iat"] = json!(chrono::Utc::now().timestamp() + 600);
    let issued_ahead = sign(Algorithm::HS256, &hs, None, &ahead);
    let critical = {
        let mut header = Header::new(Algorithm::HS256);
        header.crit = Some(vec!["b64".into()]);
        jsonwebtoken::encode(&header, &claims("acme", 3600), &hs).unwrap()
    };
    for (what, token) in [
        ("expired", expired),
        ("bad signature", wrong_secret),
        ("wrong algorithm", wrong_alg),
        ("no exp", missing_exp),
        ("alg none", unsigned),
        ("unknown workspace", unknown_ws),
        ("issued in the future", issued_ahead),
        ("critical extension", critical),
        ("garbage", "not.a.jwt".to_owned()),
    ] {
        let (status, body) = viewer_with(&app, Some(&format!("Bearer {token}"))).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_code(&body, "UNAUTHENTICATED");
    }
    let (status, _) = viewer_with(&app, Some("Basic dXNlcjpwYXNz")).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_valid_token_shows_its_viewer() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let token = app.token("acme", &[Scope::Read, Scope::Write]);
    let data = app
        .ok(&token, "{ viewer { subject workspace scopes } }", json!({}))
        .await;
    assert_eq!(
        data["viewer"],
        json!({ "subject": "tester", "workspace": "acme", "scopes": ["journeys:read", "journeys:write"] })
    );
}

#[tokio::test]
async fn missing_scopes_are_forbidden() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    let read_only = app.token("acme", &[Scope::Read]);
    let body = app
        .gql(
            &read_only,
            crate::helpers::CREATE_ACCOUNT,
            json!({ "input": { "name": "Nope" } }),
        )
        .await;
    assert_code(&body, "FORBIDDEN");
    let write_only = app.token("acme", &[Scope::Write]);
    assert_code(
        &app.gql(&write_only, "{ accounts { totalCount } }", json!({}))
            .await,
        "FORBIDDEN",
    );
    let body = app
        .gql(
            &write_only,
            "mutation { createJourneyModel(input: { template: AIDA }) { journeyModel { id } } }",
            json!({}),
        )
        .await;
    assert_code(&body, "FORBIDDEN");
    // Nothing was written by the refused mutation.
    let data = app
        .ok(&app.admin("acme"), "{ accounts { totalCount } }", json!({}))
        .await;
    assert_eq!(data["accounts"]["totalCount"], 0);
}

#[tokio::test]
async fn another_workspaces_ids_are_not_found() {
    let app = spawn_app().await;
    app.workspace("acme").await;
    app.workspace("globex").await;
    let acme = app.admin("acme");
    let globex = app.admin("globex");
    let id = create_account(&app, &acme, "Acme Secret Project", &["acme.com"]).await;

    assert_code(
        &app.gql(
            &globex,
            "query($id: ID!) { account(id: $id) { name } }",
            json!({ "id": id }),
        )
        .await,
        "NOT_FOUND",
    );
    assert_code(
        &app.gql(
            &globex,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await,
        "NOT_FOUND",
    );
    let nodes = app
        .ok(
            &globex,
            "query($id: ID!) { nodes(ids: [$id]) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(nodes["nodes"], json!([null]));
    let body = app
        .gql(
            &globex,
            "mutation($id: ID!) { updateAccount(input: { id: $id, name: \"Stolen\" }) { account { name } } }",
            json!({ "id": id }),
        )
        .await;
    assert_code(&body, "NOT_FOUND");
    let body = app
        .gql(
            &globex,
            "mutation($id: ID!) { deleteAccount(input: { id: $id }) { deletedId } }",
            json!({ "id": id }),
        )
        .await;
    assert_code(&body, "NOT_FOUND");
    let data = app
        .ok(
            &globex,
            "{ accounts { totalCount nodes { name } } touchpoints { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["accounts"]["totalCount"], 0);
    // The other workspace's domain does not pull a person into its account.
    let payload = crate::helpers::record(
        &app,
        &globex,
        json!([{ "externalId": "g1", "channel": "EMAIL", "kind": "email.opened",
                 "occurredAt": "2026-01-01T00:00:00Z", "person": { "email": "eve@acme.com" } },
               { "externalId": "g2", "channel": "EMAIL", "kind": "email.opened",
                 "occurredAt": "2026-01-01T00:00:00Z", "accountId": id }]),
    )
    .await;
    assert_eq!(payload["results"][0]["touchpoint"]["account"], Value::Null);
    assert_eq!(payload["results"][1]["error"]["code"], "NOT_FOUND");
    // And acme still sees its account untouched.
    let data = app
        .ok(
            &acme,
            "query($id: ID!) { account(id: $id) { name } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data["account"]["name"], "Acme Secret Project");
}

async fn accepts_asymmetric_tokens(keys: KeySources, kids: [Option<&str>; 3]) {
    let app = spawn_app_with(keys).await;
    app.workspace("acme").await;
    for (alg, kid) in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA]
        .into_iter()
        .zip(kids)
    {
        let token = sign(alg, &private_key(alg), kid, &claims("acme", 600));
        let (status, body) = viewer_with(&app, Some(&format!("Bearer {token}"))).await;
        assert_eq!(status, 200, "{alg:?}: {body}");
        assert_eq!(body["data"]["viewer"]["workspace"], "acme");
    }
    // An HS256 token signed with the public key as its secret: the classic
    // algorithm-confusion attack.
    let public = std::fs::read(fixture("rsa_public.pem")).unwrap();
    let forged = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(&public),
        None,
        &claims("acme", 600),
    );
    let (status, _) = viewer_with(&app, Some(&format!("Bearer {forged}"))).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn jwks_keys_verify_rs256_es256_and_eddsa() {
    let keys = KeySources {
        jwks_file: Some(fixture("jwks.json")),
        ..Default::default()
    };
    accepts_asymmetric_tokens(keys, [Some("rsa-1"), Some("ec-1"), Some("ed-1")]).await;
}

#[tokio::test]
async fn pem_public_keys_verify_their_algorithm() {
    for (file, alg) in [
        ("rsa_public.pem", Algorithm::RS256),
        ("ec_public.pem", Algorithm::ES256),
        ("ed_public.pem", Algorithm::EdDSA),
    ] {
        let app = spawn_app_with(KeySources {
            public_key_pem_file: Some(fixture(file)),
            ..Default::default()
        })
        .await;
        app.workspace("acme").await;
        let token = sign(alg, &private_key(alg), None, &claims("acme", 600));
        let (status, _) = viewer_with(&app, Some(&format!("Bearer {token}"))).await;
        assert_eq!(status, 200, "{file}");
        // A token of another algorithm is refused by a server holding one key.
        let other = if alg == Algorithm::RS256 {
            Algorithm::ES256
        } else {
            Algorithm::RS256
        };
        let token = sign(other, &private_key(other), None, &claims("acme", 600));
        let (status, _) = viewer_with(&app, Some(&format!("Bearer {token}"))).await;
        assert_eq!(status, 401, "{file} accepted {other:?}");
    }
}

#[tokio::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let app = spawn_app_with(KeySources {
        hs256_secret: Some(SECRET.into()),
        issuer: Some("https://id.example".into()),
        audience: Some("journeys".into()),
        ..Default::default()
    })
    .await;
    app.workspace("acme").await;
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let mut good = claims("acme", 600);
    good["iss"] = json!("https://id.example");
    good["aud"] = json!("journeys");
    let (status, _) = viewer_with(
        &app,
        Some(&format!(
            "Bearer {}",
            sign(Algorithm::HS256, &key, None, &good)
        )),
    )
    .await;
    assert_eq!(status, 200);
    for (field, value) in [
        ("iss", json!("https://evil.example")),
        ("aud", json!("someone-else")),
    ] {
        let mut bad = good.clone();
        bad[field] = value;
        let (status, _) = viewer_with(
            &app,
            Some(&format!(
                "Bearer {}",
                sign(Algorithm::HS256, &key, None, &bad)
            )),
        )
        .await;
        assert_eq!(status, 401, "{field}");
    }
    let (status, _) = viewer_with(
        &app,
        Some(&format!(
            "Bearer {}",
            sign(Algorithm::HS256, &key, None, &claims("acme", 600))
        )),
    )
    .await;
    assert_eq!(status, 401, "a token without iss/aud");
}
