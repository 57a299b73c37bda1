//! The GraphQL face of connectors: plugins, connectors, their runs, and the
//! mutations over them. The rules, the sealing of secrets and the sync
//! runtime live in `journeys_core::connectors`.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Json, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::vocab::SyncTrigger as StoredTrigger;
use entity::{connector, sync_run};
use journeys_core::connectors::sync::SyncRuntime;
use journeys_core::connectors::{self, ConnectorChanges, NewConnector, PluginSummary};
use serde_json::Value;

use crate::auth::Scope;
use crate::graphql::connection::{CountBy, edges, load_error};
use crate::graphql::context::request;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::loaders::LastRunOf;
use crate::graphql::pagination::{Cursor, PageArgs, SortKey, TotalCount, connection};
use crate::graphql::patch::to_patch;
use crate::vocab::{SyncStatus, SyncTrigger};

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

impl From<PluginSummary> for PluginInfo {
    fn from(p: PluginSummary) -> Self {
        PluginInfo {
            kind: p.kind,
            description: p.description,
            config_schema: Json(p.config_schema),
            secrets_schema: Json(p.secrets_schema),
        }
    }
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
    /// CONNECTOR_MALFORMED, CONNECTOR_CONFIG, CONNECTOR_SECRETS, ABANDONED,
    /// NOT_FOUND (the connector was deleted), CONFLICT (writes kept meeting
    /// concurrent ones; the next run resumes) or INTERNAL.
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
            .summaries()
            .into_iter()
            .map(PluginInfo::from)
            .collect())
    }

    /// The workspace's connectors, oldest first.
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
        let rows = connectors::list(&rc.db, ws, &page).await?;
        let cursor = |c: &connector::Model| Cursor::new(CONNECTOR_ORDER, SortKey::None, c.id);
        let (edges, page_info) = edges(rows, &page, cursor, Connector);
        let total = CountBy(move |db| async move { connectors::count(&db, ws).await });
        Ok(ConnectorConnection::new(
            edges,
            page_info,
            TotalCount::new(total),
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
        Ok(Connector(connectors::find(&rc.db, ws, id).await?))
    }

    /// A connector's runs, newest first.
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
        let id = ids::decode(&connector_id, NodeType::Connector)?;
        let page = PageArgs::new(first, after, last, before).page(RUN_ORDER)?;
        let rows = connectors::list_runs(&rc.db, ws, id, &page).await?;
        let cursor = |r: &sync_run::Model| Cursor::new(RUN_ORDER, SortKey::None, r.id);
        let (edges, page_info) = edges(rows, &page, cursor, SyncRun);
        let total = CountBy(move |db| async move { connectors::count_runs(&db, ws, id).await });
        Ok(SyncRunConnection::new(
            edges,
            page_info,
            TotalCount::new(total),
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
        let new = NewConnector {
            kind: input.kind,
            name: input.name,
            config: input.config.0,
            secrets: input.secrets.0,
            schedule_seconds: input.schedule_seconds,
            enabled: input.enabled,
        };
        let model = connectors::create(&rc.db, rt.sealing(), ws, new).await?;
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
        let changes = ConnectorChanges {
            name: input.name,
            config: input.config.map(|c| c.0),
            secrets: input.secrets.map(|s| s.0),
            schedule_seconds: to_patch(input.schedule_seconds),
            enabled: input.enabled,
        };
        let model = connectors::update(&rc.db, rt.sealing(), ws, id, changes).await?;
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
        connectors::delete(&rc.db, ws, key).await?;
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
        let (run, queued) = rt.sync_now(ws, id, StoredTrigger::Api).await?;
        Ok(TriggerSyncPayload {
            run: SyncRun(run),
            queued,
        })
    }
}
