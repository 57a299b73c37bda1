//! Settings: schemas, and the refusal of unusable ones with the field named.

mod common;

use journeys_plugin_sdk::{Connector, plugin};
use journeys_plugin_zendesk::{Config, Secrets, Zendesk};
use serde_json::json;

use common::*;

fn build(config: Config, secrets: Secrets) -> Result<Zendesk, String> {
    Zendesk::new(config, secrets, quick_http())
}

fn valid() -> Config {
    Config {
        base_url: "https://acme.zendesk.com".into(),
        email: EMAIL.into(),
        start_time: None,
        export_requests_per_minute: None,
    }
}

#[test]
fn the_plugin_describes_its_settings() {
    let plugin = plugin::<Zendesk>();
    assert_eq!(plugin.kind(), "zendesk");
    let config = plugin.config_schema();
    assert_eq!(config["additionalProperties"], false);
    assert_eq!(config["properties"]["base_url"]["type"], "string");
    assert_eq!(
        config["properties"]["base_url"]["description"],
        "The account's URL, e.g. `https://acme.zendesk.com`."
    );
    let required: Vec<&str> = config["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, ["base_url", "email"]);
    assert!(
        config["properties"]["export_requests_per_minute"]["description"]
            .as_str()
            .unwrap()
            .contains("10")
    );
    let secrets = plugin.secrets_schema();
    assert_eq!(secrets["additionalProperties"], false);
    assert!(secrets["properties"]["api_token"]["description"].is_string());
    assert!(secrets["properties"]["webhook_signing_secret"].is_object());
}

#[test]
fn unusable_settings_are_refused_naming_the_field() {
    assert!(build(valid(), secrets()).is_ok());
    let cases = [
        (
            Config {
                base_url: "acme.zendesk.com".into(),
                ..valid()
            },
            secrets(),
            "base_url",
        ),
        (
            Config {
                base_url: "ftp://acme.zendesk.com".into(),
                ..valid()
            },
            secrets(),
            "base_url",
        ),
        (
            Config {
                email: " ".into(),
                ..valid()
            },
            secrets(),
            "email",
        ),
        (
            Config {
                start_time: Some(-1),
                ..valid()
            },
            secrets(),
            "start_time",
        ),
        (
            Config {
                export_requests_per_minute: Some(0),
                ..valid()
            },
            secrets(),
            "export_requests_per_minute",
        ),
        (
            valid(),
            Secrets {
                api_token: String::new(),
                webhook_signing_secret: None,
            },
            "api_token",
        ),
        (
            valid(),
            Secrets {
                api_token: API_TOKEN.into(),
                webhook_signing_secret: Some(String::new()),
            },
            "webhook_signing_secret",
        ),
    ];
    for (config, secrets, field) in cases {
        let err = build(config, secrets).err().expect(field);
        assert!(err.contains(field), "{field}: {err}");
        assert!(!err.contains(API_TOKEN), "{err}");
    }
}

#[test]
fn unknown_fields_are_refused_and_secret_values_not_repeated() {
    let plugin = plugin::<Zendesk>();
    let secrets = json!({ "api_token": API_TOKEN });
    let err = plugin
        .build(
            &json!({ "base_url": "https://acme.zendesk.com", "email": EMAIL, "subdomain": "acme" }),
            &secrets,
            quick_http(),
        )
        .err()
        .unwrap();
    assert!(err.contains("unknown field `subdomain`"), "{err}");
    let err = plugin
        .build(
            &json!({ "base_url": "https://acme.zendesk.com", "email": EMAIL }),
            &json!({ "api_token": 987654321 }),
            quick_http(),
        )
        .err()
        .unwrap();
    assert!(!err.contains("987654321"), "{err}");
    assert!(
        plugin
            .build(
                &json!({ "base_url": "https://acme.zendesk.com", "email": EMAIL, "start_time": 1700000000 }),
                &secrets,
                quick_http(),
            )
            .is_ok()
    );
}
