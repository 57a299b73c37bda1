//! The object-safe face of a [`Connector`], so the server can hold every kind
//! in one registry and pass configs, secrets and cursors as JSON.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::{Batch, Connector, HttpClient, PullError, WebhookError, WebhookReply, WebhookRequest};

/// One connector kind, as the server sees it.
pub trait Plugin: Send + Sync {
    fn kind(&self) -> &'static str;
    fn description(&self) -> &'static str;
    /// JSON schema of the config.
    fn config_schema(&self) -> Value;
    /// JSON schema of the secrets.
    fn secrets_schema(&self) -> Value;
    /// Builds an instance. The error says which setting is wrong, and never
    /// repeats a secret's value.
    fn build(
        &self,
        config: &Value,
        secrets: &Value,
        http: HttpClient,
    ) -> Result<Box<dyn DynConnector>, String>;
}

/// A built connector, with JSON cursors.
#[async_trait::async_trait]
pub trait DynConnector: Send + Sync {
    /// `None` is a first sync.
    async fn pull(&mut self, cursor: Option<&Value>) -> Result<Batch<Value>, PullError>;
    fn webhook(
        &self,
        request: &WebhookRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<WebhookReply, WebhookError>;
}

/// The plugin for connector type `C`: `journeys_plugin_sdk::plugin::<Twitter>()`.
pub fn plugin<C: Connector>() -> Box<dyn Plugin> {
    Box::new(PluginOf::<C>(std::marker::PhantomData))
}

struct PluginOf<C>(std::marker::PhantomData<fn() -> C>);

impl<C: Connector> Plugin for PluginOf<C> {
    fn kind(&self) -> &'static str {
        C::KIND
    }

    fn description(&self) -> &'static str {
        C::DESCRIPTION
    }

    fn config_schema(&self) -> Value {
        schemars::schema_for!(C::Config).to_value()
    }

    fn secrets_schema(&self) -> Value {
        schemars::schema_for!(C::Secrets).to_value()
    }

    fn build(
        &self,
        config: &Value,
        secrets: &Value,
        http: HttpClient,
    ) -> Result<Box<dyn DynConnector>, String> {
        // The path names the setting: `config.schedule: invalid type…`.
        let config: C::Config = serde_path_to_error::deserialize(config).map_err(|e| {
            match e.path().to_string().as_str() {
                "." => format!("config: {}", e.inner()),
                path => format!("config.{path}: {}", e.inner()),
            }
        })?;
        let secrets = C::Secrets::deserialize(secrets).map_err(|e| {
            // serde's type errors quote the value; a secret's must not be.
            let message = e.to_string();
            if message.starts_with("missing field") || message.starts_with("unknown field") {
                format!("secrets: {message}")
            } else {
                "secrets: every secret is a non-empty string".to_owned()
            }
        })?;
        Ok(Box::new(Built(C::new(config, secrets, http)?)))
    }
}

use serde::Deserialize;

struct Built<C>(C);

#[async_trait::async_trait]
impl<C: Connector> DynConnector for Built<C> {
    async fn pull(&mut self, cursor: Option<&Value>) -> Result<Batch<Value>, PullError> {
        let cursor = match cursor {
            None | Some(Value::Null) => C::Cursor::default(),
            Some(saved) => C::Cursor::deserialize(saved).map_err(|e| PullError::Malformed {
                endpoint: "the saved cursor".into(),
                detail: e.to_string(),
            })?,
        };
        let batch = self.0.pull(cursor).await?;
        Ok(Batch {
            touchpoints: batch.touchpoints,
            cursor: serde_json::to_value(&batch.cursor).expect("cursors serialise to JSON"),
            more: batch.more,
        })
    }

    fn webhook(
        &self,
        request: &WebhookRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<WebhookReply, WebhookError> {
        self.0.webhook(request, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Batch, Connector, HttpClient, RetryPolicy};
    use serde::{Deserialize, Serialize};

    #[derive(Deserialize, schemars::JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct Config {
        /// Where the vendor's API is.
        base_url: String,
    }

    #[derive(Deserialize, schemars::JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct Secrets {
        token: String,
    }

    #[derive(Serialize, Deserialize, Default)]
    struct Cursor {
        page: u32,
    }

    struct Counter;

    #[async_trait::async_trait]
    impl Connector for Counter {
        const KIND: &'static str = "counter";
        const DESCRIPTION: &'static str = "Counts pages.";
        type Config = Config;
        type Secrets = Secrets;
        type Cursor = Cursor;

        fn new(config: Config, secrets: Secrets, _: HttpClient) -> Result<Self, String> {
            if config.base_url.is_empty() || secrets.token.is_empty() {
                return Err("config: base_url must not be empty".into());
            }
            Ok(Counter)
        }

        async fn pull(&mut self, cursor: Cursor) -> Result<Batch<Cursor>, PullError> {
            Ok(Batch {
                touchpoints: Vec::new(),
                more: cursor.page + 1 < 2,
                cursor: Cursor {
                    page: cursor.page + 1,
                },
            })
        }
    }

    fn http() -> HttpClient {
        HttpClient::new(RetryPolicy::default())
    }

    #[tokio::test]
    async fn cursors_round_trip_as_json() {
        let plugin = plugin::<Counter>();
        let config = serde_json::json!({"base_url": "http://127.0.0.1:1"});
        let secrets = serde_json::json!({"token": "t"});
        let mut connector = plugin.build(&config, &secrets, http()).unwrap();
        let first = connector.pull(None).await.unwrap();
        assert_eq!(first.cursor, serde_json::json!({"page": 1}));
        let second = connector.pull(Some(&first.cursor)).await.unwrap();
        assert_eq!(second.cursor, serde_json::json!({"page": 2}));
        assert!(!second.more);
    }

    #[test]
    fn unknown_config_fields_are_refused_and_secrets_are_not_echoed() {
        let plugin = plugin::<Counter>();
        let secrets = serde_json::json!({"token": "t"});
        let err = plugin
            .build(
                &serde_json::json!({"base_url": "x", "basurl": "y"}),
                &secrets,
                http(),
            )
            .err()
            .unwrap();
        assert!(err.contains("unknown field `basurl`"), "{err}");
        let err = plugin
            .build(
                &serde_json::json!({"base_url": "x"}),
                &serde_json::json!({"token": 12345678}),
                http(),
            )
            .err()
            .unwrap();
        assert!(!err.contains("12345678"), "{err}");
    }

    #[test]
    fn the_schema_documents_the_config() {
        let schema = plugin::<Counter>().config_schema();
        assert_eq!(schema["properties"]["base_url"]["type"], "string");
        assert_eq!(
            schema["properties"]["base_url"]["description"],
            "Where the vendor's API is."
        );
        assert_eq!(schema["additionalProperties"], false);
    }
}
