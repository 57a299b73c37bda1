//! A vendor's webhook delivery to one connector: verified by the connector's
//! plugin with the connector's secret, then recorded like a pulled batch, with
//! the same external ids, so a delivery and a pull never duplicate. A refused
//! delivery stores nothing.

use journeys_plugin_sdk::{HttpClient, RetryPolicy, WebhookError, WebhookReply, WebhookRequest};
use serde_json::Value;
use uuid::Uuid;

use super::sync::SyncRuntime;
use super::{find_any, open_secrets, plugin_touchpoints};
use crate::ingestion::{self, Tally};
use crate::{CoreError, time};

/// What an accepted delivery came to.
#[derive(Debug)]
pub enum Delivery {
    /// The vendor's endpoint check: answer with this JSON, nothing recorded.
    Challenge(Value),
    /// The touchpoints it carried were recorded; `failed` were refused one by
    /// one as bad data.
    Recorded { received: usize, failed: u64 },
}

/// Why a delivery was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum WebhookFailure {
    /// No enabled connector has that id, or its plugin is not in this build.
    #[error("no such connector")]
    NoConnector,
    /// The plugin refused the delivery: its signature, its age or its shape.
    #[error(transparent)]
    Refused(WebhookError),
    /// The connector's secrets do not open (no key, or another key), so
    /// nothing can be verified now.
    #[error("the connector's secrets do not open")]
    Secrets(#[source] CoreError),
    /// The connector's settings no longer build its plugin.
    #[error("the connector is misconfigured: {0}")]
    Misconfigured(String),
    /// Recording failed; the vendor's retry will record it.
    #[error("the webhook could not be recorded")]
    Record(#[source] CoreError),
}

/// Verifies and records one delivery to connector `id`.
pub async fn receive(
    runtime: &SyncRuntime,
    id: Uuid,
    request: &WebhookRequest<'_>,
) -> Result<Delivery, WebhookFailure> {
    let connector = match find_any(runtime.db(), id).await {
        Ok(c) if c.enabled => c,
        Ok(_) | Err(CoreError::NotFound { .. }) => return Err(WebhookFailure::NoConnector),
        Err(e) => return Err(WebhookFailure::Record(e)),
    };
    let plugin = runtime
        .registry()
        .get(&connector.kind)
        .ok_or(WebhookFailure::NoConnector)?;
    let secrets =
        open_secrets(runtime.secret_box(), &connector).map_err(WebhookFailure::Secrets)?;
    let instance = plugin
        .build(
            &connector.config,
            &secrets,
            HttpClient::new(RetryPolicy::default()),
        )
        .map_err(WebhookFailure::Misconfigured)?;
    let delivered = match instance
        .webhook(request, time::now())
        .map_err(WebhookFailure::Refused)?
    {
        WebhookReply::Challenge(answer) => return Ok(Delivery::Challenge(answer)),
        WebhookReply::Touchpoints(t) => t,
    };
    let (connector_id, kind) = (connector.id, connector.kind.as_str());
    let recorded = ingestion::record(
        runtime.db(),
        connector.workspace_id,
        delivered.len(),
        |now| {
            delivered
                .iter()
                .map(|t| plugin_touchpoints::check(connector_id, kind, t.clone(), now))
                .collect()
        },
    )
    .await
    .map_err(WebhookFailure::Record)?;
    Ok(Delivery::Recorded {
        received: delivered.len(),
        failed: Tally::of(&recorded).failed,
    })
}
