//! `journeys sync <connector-id>`: one run in the foreground, with a progress
//! line per batch and a summary; Ctrl-C cancels it at a batch boundary.

use std::sync::Arc;

use entity::sync_run;
use entity::vocab::{SyncStatus, SyncTrigger};
use sea_orm::DatabaseConnection;

use anyhow::Context;
use journeys_api::graphql::ids::{self, NodeType};
use journeys_core::connectors::find_any;
use journeys_core::connectors::secrets::SecretBox;
use journeys_core::connectors::sync::{SyncRuntime, SyncSettings};

use super::builtin_plugins;

/// What a foreground sync did.
pub struct Report(sync_run::Model);

impl Report {
    pub fn succeeded(&self) -> bool {
        self.0.status == SyncStatus::Succeeded
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let run = &self.0;
        write!(
            f,
            "{:?}: fetched {}, created {}, updated {}, unchanged {}, failed {} in {} batches",
            run.status,
            run.fetched,
            run.created,
            run.updated,
            run.unchanged,
            run.failed,
            run.batches
        )?;
        if let (Some(start), Some(end)) = (run.started_at, run.finished_at) {
            write!(f, " ({} ms)", (end - start).num_milliseconds())?;
        }
        if let Some(error) = &run.error {
            write!(
                f,
                "\nerror [{}]: {error}",
                run.error_code.as_deref().unwrap_or("?")
            )?;
        }
        Ok(())
    }
}

pub async fn sync_once(
    db: DatabaseConnection,
    secret_box: Option<SecretBox>,
    connector_id: &str,
) -> anyhow::Result<Report> {
    let id = ids::decode(
        &async_graphql::ID(connector_id.to_owned()),
        NodeType::Connector,
    )
    .map_err(|_| anyhow::anyhow!("`{connector_id}` is not a connector id"))?;
    let connector = find_any(&db, id)
        .await
        .with_context(|| format!("connector `{connector_id}`"))?;
    let runtime = SyncRuntime::new(
        db,
        Arc::new(builtin_plugins()),
        secret_box,
        SyncSettings::default(),
    );
    let (run, queued) = runtime
        .enqueue(&connector, SyncTrigger::Cli)
        .await
        .context("cannot queue the run")?;
    anyhow::ensure!(
        queued,
        "connector `{}` is already syncing (run {})",
        connector.name,
        ids::encode(NodeType::SyncRun, run.id).0
    );
    // Ctrl-C ends the run at its next batch boundary, as CANCELLED, rather
    // than leaving it RUNNING until its lease lapses.
    let interrupt = {
        let runtime = Arc::clone(&runtime);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("interrupted: stopping after the current batch");
                runtime.stop();
            }
        })
    };
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(format!("syncing {} ({})", connector.name, connector.kind));
    let finished = runtime
        .execute(run.id, |run| {
            bar.set_message(format!(
                "{}: {} batches, {} fetched, {} created, {} updated",
                connector.name, run.batches, run.fetched, run.created, run.updated
            ));
            bar.tick();
        })
        .await
        .context("the run could not be recorded")?;
    interrupt.abort();
    bar.finish_and_clear();
    Ok(Report(finished))
}
