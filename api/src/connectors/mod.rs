//! Connectors: the plugin registry, connectors as configured per workspace,
//! their sync runs, and the API over them.
//!
//! Plugins (crates under `plugins/`) turn a vendor's API into touchpoints;
//! everything else lives here: secrets at rest ([`secrets`]), the sync
//! runtime ([`sync`]), the webhook endpoint ([`webhooks`]) and recording what
//! plugins produce through the same path as `recordTouchpoints` ([`ingest`]).

pub mod ingest;
pub mod secrets;
pub mod sync;

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Json, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::vocab::SyncTrigger as StoredTrigger;
use entity::{connector, sync_run};
use journeys_plugin_sdk::{HttpClient, Plugin, RetryPolicy};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Scope;
use crate::graphql::connection::{SelectCount, edges, load_error};
use crate::graphql::context::request;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::loaders::LastRunOf;
use crate::graphql::pagination::{Cursor, Keyset, PageArgs, SortKey, TotalCount, connection};
use crate::vocab::{SyncStatus, SyncTrigger};
use journeys_core::time;
use secrets::SecretBox;
use sync::SyncRuntime;

/// Every connector kind this build knows.
pub struct Registry {
    plugins: Vec<Box<dyn Plugin>>,
}

impl Registry {
    /// The built-in plugins. A new connector crate is one line here.
    pub fn builtin() -> Self {
        Registry {
            plugins: vec![
                journeys_plugin_sdk::plugin::<journeys_plugin_twitter::Twitter>(),
                journeys_plugin_sdk::plugin::<journeys_plugin_zoom::Zoom>(),
                journeys_plugin_sdk::plugin::<journeys_plugin_zendesk::Zendesk>(),
            ],
        }
    }

    pub fn get(&self, kind: &str) -> Option<&dyn Plugin> {
        self.plugins
            .iter()
            .find(|p| p.kind() == kind)
            .map(|p| p.as_ref())
    }
}

/// The connector's secrets, decrypted.
pub fn open_secrets(
    secret_box: Option<&SecretBox>,
    connector: &connector::Model,
) -> ApiResult<Value> {
    let secret_box = secret_box.ok_or_else(missing_key)?;
    let plain = secret_box
        .open(connector.id, &connector.secrets)
        .ok_or_else(|| {
            ApiError::NotConfigured(
                "the connector's secrets do not open with this JOURNEYS_SECRET_KEY; save them again"
                    .into(),
            )
        })?;
    serde_json::from_slice(&plain).map_err(|e| ApiError::Internal(format!("sealed secrets: {e}")))
}

fn missing_key() -> ApiError {
    ApiError::NotConfigured(
        "connector secrets need JOURNEYS_SECRET_KEY (32 bytes, base64) on the server".into(),
    )
}

/// A connector kind this server can run.
#[derive(SimpleObject)]
#[graphql(name = "Plugin")]
pub struct PluginInfo {
    /// The value for `CreateConnectorInput.kind`.
    kind: String,
    /// What the plugin pulls, in words.
    description: String,
    /// JSON schema of `config`.
    config_schema: Json<Value>,
    /// JSON schema of `secrets`.
    secrets_schema: Json<Value>,
}

/// A configured source of touchpoints: a plugin kind, its settings and
/// write-only secrets, and its schedule.
pub struct Connector(pub connector::Model);

/// A configured source of touchpoints: a plugin kind, its settings and
/// write-only secrets, and its schedule.
#[Object]
impl Connector {
    /// Opaque global id; resolves with `node`.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Connector, self.0.id)
    }

    /// The plugin it runs: a `Plugin.kind`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }

    /// A display name, 1 to 200 characters.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The plugin's settings, as described by its `configSchema`; holds no
    /// secrets.
    async fn config(&self) -> Json<&Value> {
        Json(&self.0.config)
    }

    /// The names of the secrets that are set. Their values are never returned.
    async fn secret_names(&self) -> Vec<String> {
        serde_json::from_value(self.0.secret_names.clone()).unwrap_or_default()
    }

    /// Seconds between scheduled syncs; null syncs only on demand.
    async fn schedule_seconds(&self) -> Option<i32> {
        self.0.schedule_seconds
    }

    /// Whether it runs: a disabled connector is not scheduled, `triggerSync`
    /// refuses it (CONFLICT) and its webhook path answers NOT_FOUND.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }

    /// Where the vendor should send webhooks: `POST` (and `GET` for
    /// Twitter's CRC) on this path of the server.
    async fn webhook_path(&self) -> String {
        format!(
            "/webhooks/{}",
            ids::encode(NodeType::Connector, self.0.id).0
        )
    }

    /// When the connector was created (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When its settings last changed (UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The newest run, whatever its status.
    async fn last_run(&self, ctx: &Context<'_>) -> ApiResult<Option<SyncRun>> {
        let run = request(ctx)
            .loader
            .load_one(LastRunOf(self.0.id))
            .await
            .map_err(load_error)?;
        Ok(run.map(SyncRun))
    }
}

/// One sync of one connector.
pub struct SyncRun(pub sync_run::Model);

/// One sync of one connector: its status, what started it, its counts, its
/// error and its timing.
#[Object]
impl SyncRun {
    /// Opaque global id; resolves with `node`.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::SyncRun, self.0.id)
    }

    /// The global id of the connector that ran.
    async fn connector_id(&self) -> ID {
        ids::encode(NodeType::Connector, self.0.connector_id)
    }

    /// Where the run is.
    async fn status(&self) -> SyncStatus {
        self.0.status.into()
    }

    /// What started the run.
    async fn trigger(&self) -> SyncTrigger {
        self.0.trigger.into()
    }

    /// Touchpoints the plugin produced.
    async fn fetched(&self) -> i32 {
        self.0.fetched
    }

    /// Touchpoints recorded for the first time.
    async fn created(&self) -> i32 {
        self.0.created
    }

    /// Touchpoints already recorded whose content changed.
    async fn updated(&self) -> i32 {
        self.0.updated
    }

    /// Already recorded with the same content.
    async fn unchanged(&self) -> i32 {
        self.0.unchanged
    }

    /// Refused one by one as bad data.
    async fn failed(&self) -> i32 {
        self.0.failed
    }

    /// Batches saved, each with the cursor after it.
    async fn batches(&self) -> i32 {
        self.0.batches
    }

    /// A stable code when the run failed: CONNECTOR_UNAUTHORIZED,
    /// CONNECTOR_RATE_LIMITED, CONNECTOR_UNAVAILABLE, CONNECTOR_REFUSED,
    /// CONNECTOR_MALFORMED, CONNECTOR_CONFIG, CONNECTOR_SECRETS, ABANDONED or
    /// INTERNAL.
    async fn error_code(&self) -> Option<&str> {
        self.0.error_code.as_deref()
    }

    /// What went wrong, for people; null unless the run failed.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    /// When the run was queued (UTC).
    async fn queued_at(&self) -> DateTime<Utc> {
        self.0.queued_at
    }

    /// When the run started (UTC); null while queued.
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }

    /// When the run ended (UTC); null while queued or running.
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }

    /// From start to finish, once finished.
    async fn duration_ms(&self) -> Option<i64> {
        Some((self.0.finished_at? - self.0.started_at?).num_milliseconds())
    }
}

connection!(
    /// A page of connectors, oldest first.
    ConnectorConnection, ConnectorEdge, Connector
);

connection!(
    /// A page of sync runs, newest first.
    SyncRunConnection, SyncRunEdge, SyncRun
);

const CONNECTOR_ORDER: &str = "connectors";
const RUN_ORDER: &str = "syncRuns";

/// Settings to create a connector with.
#[derive(InputObject)]
pub struct CreateConnectorInput {
    /// A plugin's `kind`.
    kind: String,
    /// A display name, 1 to 200 characters.
    name: String,
    /// Checked against the plugin's config schema; unknown fields are refused.
    config: Json<Value>,
    /// A JSON object of the plugin's secrets. Stored encrypted, never returned.
    #[graphql(default_with = "Json(Value::Object(Default::default()))")]
    secrets: Json<Value>,
    /// Seconds between scheduled syncs (at least 60); omit to sync on demand.
    schedule_seconds: Option<i32>,
    /// Whether it runs; see `Connector.enabled`.
    #[graphql(default = true)]
    enabled: bool,
}

/// Changes to a connector; absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateConnectorInput {
    /// The connector to change.
    id: ID,
    /// A new display name, 1 to 200 characters.
    name: Option<String>,
    /// Replaces the whole config.
    config: Option<Json<Value>>,
    /// Secrets to set (a string) or remove (null); secrets not named stay.
    secrets: Option<Json<Value>>,
    /// `null` stops the schedule.
    schedule_seconds: MaybeUndefined<i32>,
    /// Turns the connector on or off; see `Connector.enabled`.
    enabled: Option<bool>,
}

/// The connector to delete.
#[derive(InputObject)]
pub struct DeleteConnectorInput {
    /// The connector's global id.
    id: ID,
}

/// The connector to sync now.
#[derive(InputObject)]
pub struct TriggerSyncInput {
    /// The connector's global id; CONFLICT when it is disabled.
    connector_id: ID,
}

/// The connector after `createConnector`.
#[derive(SimpleObject)]
pub struct CreateConnectorPayload {
    /// The connector as saved.
    connector: Connector,
}

/// The connector after `updateConnector`.
#[derive(SimpleObject)]
pub struct UpdateConnectorPayload {
    /// The connector as saved.
    connector: Connector,
}

/// What `deleteConnector` removed.
#[derive(SimpleObject)]
pub struct DeleteConnectorPayload {
    /// The id of the deleted connector.
    deleted_id: ID,
}

/// The connector's run after `triggerSync`.
#[derive(SimpleObject)]
pub struct TriggerSyncPayload {
    /// The run this call queued, or the one already queued or running.
    run: SyncRun,
    /// True when this call queued `run`; false when it is the connector's
    /// run already queued or running, which the call left as it was.
    queued: bool,
}

fn runtime<'a>(ctx: &Context<'a>) -> ApiResult<&'a Arc<SyncRuntime>> {
    ctx.data_opt::<Arc<SyncRuntime>>()
        .ok_or_else(|| ApiError::Internal("the sync runtime is not running".into()))
}

pub(crate) async fn find(
    db: &impl sea_orm::ConnectionTrait,
    ws: Uuid,
    id: Uuid,
) -> ApiResult<connector::Model> {
    connector::Entity::find_by_id(id)
        .filter(connector::Column::WorkspaceId.eq(ws))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("connector"))
}

/// A connector by id alone, for webhook deliveries (which carry no token).
pub async fn find_any(
    db: &impl sea_orm::ConnectionTrait,
    id: Uuid,
) -> ApiResult<Option<connector::Model>> {
    Ok(connector::Entity::find_by_id(id).one(db).await?)
}

fn check_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::bad_input("`name` must be 1 to 200 characters"));
    }
    Ok(name.to_owned())
}

fn check_schedule(seconds: Option<i32>) -> ApiResult<Option<i32>> {
    match seconds {
        Some(s) if s < 60 => Err(ApiError::bad_input("`scheduleSeconds` must be at least 60")),
        other => Ok(other),
    }
}

/// The secrets object's names, each of which must hold a non-empty string.
fn secret_names(secrets: &Value) -> ApiResult<Vec<String>> {
    let object = secrets
        .as_object()
        .ok_or_else(|| ApiError::bad_input("`secrets` must be a JSON object"))?;
    let mut names = Vec::with_capacity(object.len());
    for (name, value) in object {
        if value.as_str().is_none_or(str::is_empty) {
            return Err(ApiError::bad_input(format!(
                "secret `{name}` must be a non-empty string"
            )));
        }
        names.push(name.clone());
    }
    Ok(names)
}

/// Checks config and secrets by building the plugin, as a sync would.
fn validate(plugin: &dyn Plugin, config: &Value, secrets: &Value) -> ApiResult<()> {
    let http = HttpClient::new(RetryPolicy::default());
    plugin
        .build(config, secrets, http)
        .map(drop)
        .map_err(ApiError::bad_input)
}

#[derive(Default)]
pub struct ConnectorQuery;

#[Object]
impl ConnectorQuery {
    /// The connector kinds this server can run, with their config schemas.
    async fn plugins(&self, ctx: &Context<'_>) -> ApiResult<Vec<PluginInfo>> {
        let rt = runtime(ctx)?;
        request(ctx).require(Scope::Read)?;
        Ok(rt
            .registry()
            .plugins
            .iter()
            .map(|p| PluginInfo {
                kind: p.kind().to_owned(),
                description: p.description().to_owned(),
                config_schema: Json(p.config_schema()),
                secrets_schema: Json(p.secrets_schema()),
            })
            .collect())
    }

    /// The workspace's connectors, oldest first.
    #[graphql(
        complexity = "crate::graphql::pagination::page_complexity(first, last, child_complexity)"
    )]
    async fn connectors(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Page forward: at most this many items (0 to 500) from the start, or after `after`. 50 when neither `first` nor `last` is given; not with `last`."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor, taken from this same list and order."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Page backward: at most this many items (0 to 500) from the end, or before `before`. Not with `first`."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Return the items before this cursor, taken from this same list and order."
        )]
        before: Option<String>,
    ) -> ApiResult<ConnectorConnection> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        let page = PageArgs::new(first, after, last, before).page(CONNECTOR_ORDER)?;
        let keyset = Keyset {
            key: None,
            id: connector::Column::Id,
            descending: false,
        };
        let base = connector::Entity::find().filter(connector::Column::WorkspaceId.eq(ws));
        let rows = keyset
            .fetch(&rc.db, base.clone(), &page)
            .await
            .map_err(ApiError::from)?;
        let cursor = |c: &connector::Model| Cursor::new(CONNECTOR_ORDER, SortKey::None, c.id);
        let (edges, page_info) = edges(rows, &page, cursor, Connector);
        Ok(ConnectorConnection::new(
            edges,
            page_info,
            TotalCount::new(SelectCount(base)),
        ))
    }

    /// One connector; NOT_FOUND when it is not in the token's workspace.
    async fn connector(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The connector's global id.")] id: ID,
    ) -> ApiResult<Connector> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        let id = ids::decode(&id, NodeType::Connector)?;
        Ok(Connector(find(&rc.db, ws, id).await?))
    }

    /// A connector's runs, newest first.
    #[graphql(
        complexity = "crate::graphql::pagination::page_complexity(first, last, child_complexity)"
    )]
    async fn sync_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The connector whose runs to list.")] connector_id: ID,
        #[graphql(
            desc = "Page forward: at most this many items (0 to 500) from the start, or after `after`. 50 when neither `first` nor `last` is given; not with `last`."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor, taken from this same list and order."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Page backward: at most this many items (0 to 500) from the end, or before `before`. Not with `first`."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Return the items before this cursor, taken from this same list and order."
        )]
        before: Option<String>,
    ) -> ApiResult<SyncRunConnection> {
        let rc = request(ctx);
        let ws = rc.require(Scope::Read)?.workspace_id;
        let connector = find(&rc.db, ws, ids::decode(&connector_id, NodeType::Connector)?).await?;
        let page = PageArgs::new(first, after, last, before).page(RUN_ORDER)?;
        let keyset = Keyset {
            key: None,
            id: sync_run::Column::Id,
            descending: true,
        };
        let base = sync_run::Entity::find()
            .filter(sync_run::Column::WorkspaceId.eq(ws))
            .filter(sync_run::Column::ConnectorId.eq(connector.id));
        let rows = keyset
            .fetch(&rc.db, base.clone(), &page)
            .await
            .map_err(ApiError::from)?;
        let cursor = |r: &sync_run::Model| Cursor::new(RUN_ORDER, SortKey::None, r.id);
        let (edges, page_info) = edges(rows, &page, cursor, SyncRun);
        Ok(SyncRunConnection::new(
            edges,
            page_info,
            TotalCount::new(SelectCount(base)),
        ))
    }
}

#[derive(Default)]
pub struct ConnectorMutation;

#[Object]
impl ConnectorMutation {
    /// Creates a connector. BAD_USER_INPUT names the config field or secret
    /// that does not fit the plugin's schema; NOT_CONFIGURED when the server
    /// has no JOURNEYS_SECRET_KEY to seal secrets with.
    async fn create_connector(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The plugin kind, settings, secrets and schedule.")]
        input: CreateConnectorInput,
    ) -> ApiResult<CreateConnectorPayload> {
        let rt = runtime(ctx)?;
        let rc = request(ctx);
        let ws = rc.require(Scope::ConnectorsManage)?.workspace_id;
        let plugin = rt.registry().get(&input.kind).ok_or_else(|| {
            ApiError::bad_input(format!(
                "no plugin of kind `{}`; see the `plugins` query",
                input.kind
            ))
        })?;
        let name = check_name(&input.name)?;
        let schedule = check_schedule(input.schedule_seconds)?;
        let names = secret_names(&input.secrets.0)?;
        validate(plugin, &input.config.0, &input.secrets.0)?;
        let secret_box = rt.secret_box().ok_or_else(missing_key)?;
        let id = entity::new_id();
        let now = time::now();
        let model = connector::ActiveModel {
            id: Set(id),
            workspace_id: Set(ws),
            kind: Set(input.kind),
            name: Set(name),
            config: Set(input.config.0),
            secrets: Set(secret_box.seal(id, input.secrets.0.to_string().as_bytes())),
            secret_names: Set(Value::from(names)),
            schedule_seconds: Set(schedule),
            enabled: Set(input.enabled),
            cursor: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&rc.db)
        .await
        .map_err(ApiError::from)?;
        Ok(CreateConnectorPayload {
            connector: Connector(model),
        })
    }

    /// Changes a connector's settings. Secrets merge: those named are set (or
    /// removed with null), the others stay. The cursor is kept.
    async fn update_connector(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The connector and the settings to change.")] input: UpdateConnectorInput,
    ) -> ApiResult<UpdateConnectorPayload> {
        let rt = runtime(ctx)?;
        let rc = request(ctx);
        let ws = rc.require(Scope::ConnectorsManage)?.workspace_id;
        let id = ids::decode(&input.id, NodeType::Connector)?;
        let txn = journeys_core::db::begin_write(&rc.db).await?;
        let old = find(&txn, ws, id).await?;
        let plugin = rt.registry().get(&old.kind).ok_or_else(|| {
            ApiError::bad_input(format!("no plugin of kind `{}` in this build", old.kind))
        })?;
        let config = input
            .config
            .map(|c| c.0)
            .unwrap_or_else(|| old.config.clone());
        let mut secrets = open_secrets(rt.secret_box(), &old)?;
        if let Some(Json(changes)) = input.secrets {
            let changes = changes
                .as_object()
                .ok_or_else(|| ApiError::bad_input("`secrets` must be a JSON object"))?;
            let merged = secrets
                .as_object_mut()
                .ok_or_else(|| ApiError::Internal("sealed secrets are not an object".into()))?;
            for (name, value) in changes {
                if value.is_null() {
                    merged.remove(name);
                } else {
                    merged.insert(name.clone(), value.clone());
                }
            }
        }
        let names = secret_names(&secrets)?;
        validate(plugin, &config, &secrets)?;
        let secret_box = rt.secret_box().ok_or_else(missing_key)?;
        let mut active: connector::ActiveModel = old.clone().into();
        if let Some(name) = input.name {
            active.name = Set(check_name(&name)?);
        }
        match input.schedule_seconds {
            MaybeUndefined::Value(s) => active.schedule_seconds = Set(check_schedule(Some(s))?),
            MaybeUndefined::Null => active.schedule_seconds = Set(None),
            MaybeUndefined::Undefined => {}
        }
        if let Some(enabled) = input.enabled {
            active.enabled = Set(enabled);
        }
        active.config = Set(config);
        active.secrets = Set(secret_box.seal(id, secrets.to_string().as_bytes()));
        active.secret_names = Set(Value::from(names));
        active.updated_at = Set(time::now());
        let model = active.update(&txn).await.map_err(ApiError::from)?;
        txn.commit().await.map_err(ApiError::from)?;
        Ok(UpdateConnectorPayload {
            connector: Connector(model),
        })
    }

    /// Deletes a connector and its runs; its touchpoints stay.
    async fn delete_connector(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The connector to delete.")] input: DeleteConnectorInput,
    ) -> ApiResult<DeleteConnectorPayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::ConnectorsManage)?.workspace_id;
        let id = input.id;
        let key = ids::decode(&id, NodeType::Connector)?;
        let txn = journeys_core::db::begin_write(&rc.db).await?;
        find(&txn, ws, key).await?;
        sync_run::Entity::delete_many()
            .filter(sync_run::Column::ConnectorId.eq(key))
            .exec(&txn)
            .await
            .map_err(ApiError::from)?;
        connector::Entity::delete_by_id(key)
            .exec(&txn)
            .await
            .map_err(ApiError::from)?;
        txn.commit().await.map_err(ApiError::from)?;
        Ok(DeleteConnectorPayload { deleted_id: id })
    }

    /// Starts a sync now, or returns the run already queued or running: a
    /// connector never syncs twice at once. Watch it in `syncRuns`.
    async fn trigger_sync(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The connector to sync; CONFLICT when it is disabled.")]
        input: TriggerSyncInput,
    ) -> ApiResult<TriggerSyncPayload> {
        let rt = runtime(ctx)?;
        let rc = request(ctx);
        let ws = rc.require(Scope::ConnectorsManage)?.workspace_id;
        let id = ids::decode(&input.connector_id, NodeType::Connector)?;
        let connector = find(&rc.db, ws, id).await?;
        if !connector.enabled {
            return Err(ApiError::Conflict("the connector is disabled".into()));
        }
        let (run, queued) = rt.trigger(&connector, StoredTrigger::Api).await?;
        Ok(TriggerSyncPayload {
            run: SyncRun(run),
            queued,
        })
    }
}
