//! What the event log and the webhook delivery attempts keep: everything
//! younger than the retention (`JOURNEYS_EVENT_RETENTION`), pruned in the
//! background. An attempt lives as long as the event it sent.

use chrono::Duration;
use sea_orm::DatabaseConnection;

use crate::{CoreResult, events, outbound, time};

/// How often [`keep_pruned`] looks for what is past its retention.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Deletes the events and delivery attempts older than `retention`; returns
/// how many of each.
pub async fn prune(db: &DatabaseConnection, retention: Duration) -> CoreResult<(u64, u64)> {
    let before = time::now() - retention;
    let events = events::prune(db, before).await?;
    let attempts = outbound::prune_deliveries(db, before).await?;
    Ok((events, attempts))
}

/// Runs [`prune`] now and every ten minutes, for the life of the process.
pub fn keep_pruned(db: DatabaseConnection, retention: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PRUNE_EVERY);
        loop {
            tick.tick().await;
            match prune(&db, retention).await {
                Ok((0, 0)) => {}
                Ok((events, attempts)) => {
                    tracing::debug!(
                        events,
                        attempts,
                        "pruned the event log and delivery attempts"
                    );
                }
                Err(e) => tracing::error!(error = ?e, "could not prune the event log"),
            }
        }
    });
}
