//! Connectors: the plugin registry, connectors as configured per workspace,
//! their secrets at rest ([`secrets`]), the sync runtime ([`sync`]), webhook
//! deliveries ([`webhooks`]), and a plugin's touchpoints turned into the
//! engine's own ([`plugin_touchpoints`]).
//!
//! Plugins (crates under `plugins/`) turn a vendor's API into touchpoints and
//! know no database; everything they produce is recorded here, through the
//! same ingestion path as `recordTouchpoints`.

pub mod plugin_touchpoints;
pub mod secrets;
pub mod sync;
pub mod webhooks;

use entity::vocab::EventType;
use entity::{connector, sync_run};
use journeys_plugin_sdk::{HttpClient, Plugin, RetryPolicy};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};
use serde_json::Value;
use uuid::Uuid;

use crate::error::required_text;
use crate::events::{self, NewEvent};
use crate::page::{Keyset, Page};
use crate::patch::Patch;
use crate::{CoreError, CoreResult, db, time};
use secrets::SecretBox;

/// Every connector kind a build knows; the binary lists its plugins.
pub struct Registry {
    plugins: Vec<Box<dyn Plugin>>,
}

/// What a client needs to configure a plugin.
#[derive(Debug, Clone)]
pub struct PluginSummary {
    pub kind: String,
    pub description: String,
    pub config_schema: Value,
    pub secrets_schema: Value,
}

impl Registry {
    pub fn new(plugins: Vec<Box<dyn Plugin>>) -> Self {
        Registry { plugins }
    }

    pub fn get(&self, kind: &str) -> Option<&dyn Plugin> {
        self.plugins
            .iter()
            .find(|p| p.kind() == kind)
            .map(|p| p.as_ref())
    }

    /// Each plugin's kind, description and schemas, in registration order.
    pub fn summaries(&self) -> Vec<PluginSummary> {
        self.plugins
            .iter()
            .map(|p| PluginSummary {
                kind: p.kind().to_owned(),
                description: p.description().to_owned(),
                config_schema: p.config_schema(),
                secrets_schema: p.secrets_schema(),
            })
            .collect()
    }

    fn plugin(&self, kind: &str) -> CoreResult<&dyn Plugin> {
        self.get(kind).ok_or_else(|| {
            CoreError::invalid_field(
                "kind",
                format!("no plugin of kind `{kind}`; see the `plugins` query"),
            )
        })
    }
}

/// The connector's secrets, decrypted.
pub fn open_secrets(
    secret_box: Option<&SecretBox>,
    connector: &connector::Model,
) -> CoreResult<Value> {
    let plain = secret_box
        .ok_or_else(missing_key)?
        .open(connector.id, &connector.secrets)
        .ok_or_else(|| {
            CoreError::NotConfigured(
                "the connector's secrets do not open with this JOURNEYS_SECRET_KEY; save them again"
                    .into(),
            )
        })?;
    serde_json::from_slice(&plain)
        .map_err(|e| CoreError::Internal(format!("sealed secrets do not decode: {e}")))
}

fn missing_key() -> CoreError {
    CoreError::NotConfigured(
        "connector secrets need JOURNEYS_SECRET_KEY (32 bytes, base64) on the server".into(),
    )
}

/// A connector of `ws` by id, or NOT_FOUND.
pub async fn find(db: &impl ConnectionTrait, ws: Uuid, id: Uuid) -> CoreResult<connector::Model> {
    connector::Entity::find_by_id(id)
        .filter(connector::Column::WorkspaceId.eq(ws))
        .one(db)
        .await?
        .ok_or(CoreError::not_found("connector"))
}

/// A connector by id alone, for webhook deliveries and the CLI (which carry
/// no token and so no workspace).
pub async fn find_any(db: &impl ConnectionTrait, id: Uuid) -> CoreResult<connector::Model> {
    connector::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(CoreError::not_found("connector"))
}

/// Connectors sort by id: oldest first.
pub const CONNECTOR_ORDER: Keyset<connector::Column> = Keyset {
    key: None,
    id: connector::Column::Id,
    descending: false,
};

/// Runs sort by id, descending: newest first.
pub const RUN_ORDER: Keyset<sync_run::Column> = Keyset {
    key: None,
    id: sync_run::Column::Id,
    descending: true,
};

/// A page of the workspace's connectors, oldest first (one row more than the
/// page, to tell whether more follow; see `page::finish`).
pub async fn list(
    db: &impl ConnectionTrait,
    ws: Uuid,
    page: &Page,
) -> CoreResult<Vec<connector::Model>> {
    let base = connector::Entity::find().filter(connector::Column::WorkspaceId.eq(ws));
    Ok(CONNECTOR_ORDER.fetch(db, base, page).await?)
}

/// How many connectors the workspace has.
pub async fn count(db: &impl ConnectionTrait, ws: Uuid) -> CoreResult<u64> {
    Ok(connector::Entity::find()
        .filter(connector::Column::WorkspaceId.eq(ws))
        .count(db)
        .await?)
}

fn runs_of(ws: Uuid, connector: Uuid) -> sea_orm::Select<sync_run::Entity> {
    sync_run::Entity::find()
        .filter(sync_run::Column::WorkspaceId.eq(ws))
        .filter(sync_run::Column::ConnectorId.eq(connector))
}

/// A page of a connector's runs, newest first, after checking the connector
/// is the workspace's.
pub async fn list_runs(
    db: &impl ConnectionTrait,
    ws: Uuid,
    connector: Uuid,
    page: &Page,
) -> CoreResult<Vec<sync_run::Model>> {
    let connector = find(db, ws, connector).await?;
    Ok(RUN_ORDER.fetch(db, runs_of(ws, connector.id), page).await?)
}

/// How many runs the connector has had.
pub async fn count_runs(db: &impl ConnectionTrait, ws: Uuid, connector: Uuid) -> CoreResult<u64> {
    Ok(runs_of(ws, connector).count(db).await?)
}

/// What the runtime needs to check and seal a connector's settings.
#[derive(Clone, Copy)]
pub struct Sealing<'a> {
    pub registry: &'a Registry,
    pub secret_box: Option<&'a SecretBox>,
}

/// A connector to create.
#[derive(Debug, Clone)]
pub struct NewConnector {
    /// A plugin's kind.
    pub kind: String,
    pub name: String,
    /// Checked against the plugin by building it.
    pub config: Value,
    /// A JSON object of non-empty strings; sealed, never returned.
    pub secrets: Value,
    /// At least 60; `None` syncs on demand only.
    pub schedule_seconds: Option<i32>,
    pub enabled: bool,
}

/// Changes to a connector; `None` and `Patch::Keep` leave a field alone.
#[derive(Debug, Clone, Default)]
pub struct ConnectorChanges {
    pub name: Option<String>,
    /// Replaces the whole config.
    pub config: Option<Value>,
    /// A JSON object: a string sets that secret, null removes it; secrets not
    /// named stay.
    pub secrets: Option<Value>,
    pub schedule_seconds: Patch<i32>,
    pub enabled: Option<bool>,
}

fn check_name(name: &str) -> CoreResult<String> {
    required_text("name", name, 200)
}

fn check_schedule(seconds: i32) -> CoreResult<i32> {
    if seconds < 60 {
        return Err(CoreError::invalid_field(
            "scheduleSeconds",
            "`scheduleSeconds` must be at least 60",
        ));
    }
    Ok(seconds)
}

/// The secrets object's names, each of which must hold a non-empty string.
fn secret_names(secrets: &Value) -> CoreResult<Vec<String>> {
    let object = secrets
        .as_object()
        .ok_or_else(|| CoreError::invalid_field("secrets", "`secrets` must be a JSON object"))?;
    object
        .iter()
        .map(|(name, value)| match value.as_str() {
            Some(s) if !s.is_empty() => Ok(name.clone()),
            _ => Err(CoreError::invalid_field(
                "secrets",
                format!("secret `{name}` must be a non-empty string"),
            )),
        })
        .collect()
}

/// Checks config and secrets by building the plugin, as a sync would.
fn validate(plugin: &dyn Plugin, config: &Value, secrets: &Value) -> CoreResult<()> {
    let http = HttpClient::new(RetryPolicy::default());
    plugin
        .build(config, secrets, http)
        .map(drop)
        .map_err(CoreError::invalid)
}

/// Creates a connector after building its plugin with the given settings;
/// the secrets are sealed under the connector's id.
pub async fn create(
    db: &DatabaseConnection,
    sealing: Sealing<'_>,
    ws: Uuid,
    new: NewConnector,
) -> CoreResult<connector::Model> {
    let plugin = sealing.registry.plugin(&new.kind)?;
    let name = check_name(&new.name)?;
    let schedule = new.schedule_seconds.map(check_schedule).transpose()?;
    let names = secret_names(&new.secrets)?;
    validate(plugin, &new.config, &new.secrets)?;
    let secret_box = sealing.secret_box.ok_or_else(missing_key)?;
    let id = entity::new_id();
    let now = time::now();
    let model = connector::ActiveModel {
        id: Set(id),
        workspace_id: Set(ws),
        kind: Set(new.kind),
        name: Set(name),
        config: Set(new.config),
        secrets: Set(secret_box.seal(id, new.secrets.to_string().as_bytes())),
        secret_names: Set(Value::from(names)),
        schedule_seconds: Set(schedule),
        enabled: Set(new.enabled),
        cursor: Set(None),
        pacing: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let txn = db::begin_write(db).await?;
    let model = model.insert(&txn).await?;
    let logged = NewEvent::connector(EventType::ConnectorCreated, model.id);
    events::append(&txn, ws, vec![logged]).await?;
    txn.commit().await?;
    Ok(model)
}

/// Changes a connector's settings in one transaction: secrets merge into the
/// sealed ones, the plugin is built with the result, the cursor is kept.
pub async fn update(
    db: &DatabaseConnection,
    sealing: Sealing<'_>,
    ws: Uuid,
    id: Uuid,
    changes: ConnectorChanges,
) -> CoreResult<connector::Model> {
    let txn = db::begin_write(db).await?;
    let old = find(&txn, ws, id).await?;
    let plugin = sealing.registry.get(&old.kind).ok_or_else(|| {
        CoreError::invalid(format!("no plugin of kind `{}` in this build", old.kind))
    })?;
    let config = changes.config.unwrap_or_else(|| old.config.clone());
    let mut secrets = open_secrets(sealing.secret_box, &old)?;
    if let Some(changed) = changes.secrets {
        let changed = changed.as_object().ok_or_else(|| {
            CoreError::invalid_field("secrets", "`secrets` must be a JSON object")
        })?;
        let merged = secrets
            .as_object_mut()
            .ok_or_else(|| CoreError::Internal("sealed secrets are not an object".into()))?;
        for (name, value) in changed {
            if value.is_null() {
                merged.remove(name);
            } else {
                merged.insert(name.clone(), value.clone());
            }
        }
    }
    let names = secret_names(&secrets)?;
    validate(plugin, &config, &secrets)?;
    let secret_box = sealing.secret_box.ok_or_else(missing_key)?;
    let mut active: connector::ActiveModel = old.into();
    if let Some(name) = changes.name {
        active.name = Set(check_name(&name)?);
    }
    changes
        .schedule_seconds
        .apply(&mut active.schedule_seconds, |s| {
            check_schedule(s).map(Some)
        })?;
    if let Some(enabled) = changes.enabled {
        active.enabled = Set(enabled);
    }
    active.config = Set(config);
    active.secrets = Set(secret_box.seal(id, secrets.to_string().as_bytes()));
    active.secret_names = Set(Value::from(names));
    active.updated_at = Set(time::now());
    let model = active.update(&txn).await?;
    let logged = NewEvent::connector(EventType::ConnectorUpdated, model.id);
    events::append(&txn, ws, vec![logged]).await?;
    txn.commit().await?;
    Ok(model)
}

/// Deletes a connector and its runs, in one transaction; its touchpoints stay.
pub async fn delete(db: &DatabaseConnection, ws: Uuid, id: Uuid) -> CoreResult<()> {
    let txn = db::begin_write(db).await?;
    find(&txn, ws, id).await?;
    sync_run::Entity::delete_many()
        .filter(sync_run::Column::ConnectorId.eq(id))
        .exec(&txn)
        .await?;
    connector::Entity::delete_by_id(id).exec(&txn).await?;
    let logged = NewEvent::connector(EventType::ConnectorDeleted, id);
    events::append(&txn, ws, vec![logged]).await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_must_be_an_object_of_non_empty_strings() {
        let names = secret_names(&serde_json::json!({ "api_token": "t", "email": "e" })).unwrap();
        assert_eq!(names, ["api_token", "email"]);
        for bad in [
            serde_json::json!(["t"]),
            serde_json::json!({ "api_token": "" }),
            serde_json::json!({ "api_token": 7 }),
        ] {
            let err = secret_names(&bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    CoreError::InvalidInput {
                        field: Some("secrets"),
                        ..
                    }
                ),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn a_schedule_is_at_least_a_minute() {
        assert_eq!(check_schedule(60).unwrap(), 60);
        assert!(check_schedule(59).is_err());
        assert_eq!(check_name("  Zendesk EU ").unwrap(), "Zendesk EU");
        assert!(check_name(" ").is_err());
    }
}
