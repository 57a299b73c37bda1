//! Settings that parse but cannot work are refused, naming the field.

mod common;

use common::quick_http;
use journeys_plugin_sdk::plugin;
use serde_json::{Value, json};

fn build(config: Value, secrets: Value) -> Result<(), String> {
    plugin::<journeys_plugin_twitter::Twitter>()
        .build(&config, &secrets, quick_http())
        .map(|_| ())
}

#[test]
fn unusable_settings_name_their_field() {
    let config = || json!({ "base_url": "https://api.x.com", "user_id": "2244994945" });
    let secrets = || json!({ "bearer_token": "token-value", "consumer_secret": "secret-value" });
    assert_eq!(build(config(), secrets()), Ok(()));

    let cases = [
        (
            json!({ "base_url": "api.x.com", "user_id": "2244994945" }),
            secrets(),
            "base_url",
        ),
        (
            json!({ "base_url": "ftp://api.x.com", "user_id": "2244994945" }),
            secrets(),
            "base_url",
        ),
        (
            json!({ "base_url": "https://api.x.com", "user_id": "@acme" }),
            secrets(),
            "user_id",
        ),
        (
            json!({ "base_url": "https://api.x.com", "user_id": "" }),
            secrets(),
            "user_id",
        ),
        (
            json!({ "base_url": "https://api.x.com", "user_id": "2244994945", "query": "  " }),
            secrets(),
            "query",
        ),
        (
            json!({ "base_url": "https://api.x.com", "user_id": "2244994945", "since": "x" }),
            secrets(),
            "unknown field `since`",
        ),
        (config(), json!({ "bearer_token": "" }), "bearer_token"),
        (
            config(),
            json!({ "bearer_token": "token-value", "consumer_secret": "" }),
            "consumer_secret",
        ),
        (
            config(),
            json!({ "consumer_secret": "secret-value" }),
            "bearer_token",
        ),
    ];
    for (config, secrets, field) in cases {
        let error = build(config.clone(), secrets).unwrap_err();
        assert!(error.contains(field), "{config}: {error}");
        assert!(
            !error.contains("secret-value") && !error.contains("token-value"),
            "{error}"
        );
    }
}

#[test]
fn the_schemas_describe_every_field() {
    let twitter = plugin::<journeys_plugin_twitter::Twitter>();
    assert_eq!(twitter.kind(), "twitter");
    for (schema, fields) in [
        (
            twitter.config_schema(),
            &["base_url", "user_id", "query", "engagement"][..],
        ),
        (
            twitter.secrets_schema(),
            &["bearer_token", "consumer_secret"][..],
        ),
    ] {
        for field in fields {
            let description = &schema["properties"][field]["description"];
            assert!(description.is_string(), "{field}: {schema}");
        }
    }
    assert_eq!(
        twitter.config_schema()["required"],
        json!(["base_url", "user_id"])
    );
}
