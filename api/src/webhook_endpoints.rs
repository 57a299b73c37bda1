//! The GraphQL face of outbound webhooks: partners' endpoints, their
//! delivery attempts, and the mutations over them. Delivery, signing,
//! retries and the address rules live in `journeys_core::outbound`; this
//! module also gives it the payload's `data`, since ids are the API's.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{event, webhook_delivery, webhook_endpoint};
use journeys_core::outbound::{self, EndpointChanges, NewEndpoint, Outbound};
use serde_json::{Map, Value};

use crate::auth::Scope;
use crate::events::{Event, LOG_ORDER};
use crate::graphql::connection::{CountBy, edges, load_error};
use crate::graphql::context::request;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::loaders::EventById;
use crate::graphql::pagination::{Cursor, PageArgs, SortKey, TotalCount, connection};
use crate::vocab::{EventType, WebhookStatus};

/// A delivery's `data`: the event's place in the log, the cursor to replay
/// from it with `events(after:)`, and the global ids it names (those that
/// are set), as `Event` shows them.
pub fn event_data(e: &event::Model) -> Value {
    let mut data = Map::new();
    data.insert("sequence".into(), e.sequence.into());
    let cursor = Cursor::new(LOG_ORDER, SortKey::Number(e.sequence), e.id).encode();
    data.insert("cursor".into(), cursor.into());
    let named = [
        ("accountId", NodeType::Account, e.account_id),
        ("stakeholderId", NodeType::Stakeholder, e.stakeholder_id),
        ("touchpointId", NodeType::Touchpoint, e.touchpoint_id),
        ("modelId", NodeType::JourneyModel, e.model_id),
        ("stageId", NodeType::Stage, e.stage_id),
        ("fromStageId", NodeType::Stage, e.from_stage_id),
        ("mergeId", NodeType::Merge, e.merge_id),
        ("connectorId", NodeType::Connector, e.connector_id),
        ("syncRunId", NodeType::SyncRun, e.sync_run_id),
    ];
    for (field, ty, id) in named {
        if let Some(id) = id {
            data.insert(field.into(), ids::encode(ty, id).0.into());
        }
    }
    Value::Object(data)
}

/// A partner's endpoint: where the workspace's events are POSTed, signed.
pub struct WebhookEndpoint(pub webhook_endpoint::Model);

/// A partner's endpoint: where the workspace's events are POSTed, signed
/// with a secret shown only when made (`createWebhookEndpoint`,
/// `rotateWebhookSecret`).
#[Object]
impl WebhookEndpoint {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::WebhookEndpoint, self.0.id)
    }

    /// Where deliveries are POSTed (http or https, a public address).
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// What the endpoint is for, in words.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// The event types it receives; empty for every type.
    async fn event_types(&self) -> Vec<EventType> {
        outbound::event_types(&self.0)
            .into_iter()
            .map(Into::into)
            .collect()
    }

    /// Whether it receives deliveries.
    async fn status(&self) -> WebhookStatus {
        self.0.status.into()
    }

    /// Why it is disabled; null while active.
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }

    /// When its current run of failed deliveries began; null while they
    /// succeed.
    async fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.0.failing_since
    }

    /// When the next try follows a failure; null when not backing off.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_attempt_at
    }

    /// Until when the secret replaced by the last rotation still signs
    /// beside the new one; null when only one signs.
    async fn previous_secret_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.previous_secret_expires_at
    }

    /// When it was created (UTC); it receives the events recorded after.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When its settings last changed (UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Its delivery attempts, newest first.
    async fn deliveries(
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
    ) -> ApiResult<WebhookDeliveryConnection> {
        deliveries_page(ctx, self.0.id, PageArgs::new(first, after, None, None)).await
    }
}

/// One attempt to deliver one event to one endpoint.
pub struct WebhookDelivery(pub webhook_delivery::Model);

/// One attempt to deliver one event to one endpoint, and how it went.
#[Object]
impl WebhookDelivery {
    /// Opaque global id; pass it to `redeliverWebhook`.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::WebhookDelivery, self.0.id)
    }

    /// The endpoint it was sent to.
    async fn endpoint_id(&self) -> ID {
        ids::encode(NodeType::WebhookEndpoint, self.0.endpoint_id)
    }

    /// The `webhook-id` header sent: the event's id, the same on every try
    /// of the event, so the receiver can drop duplicates.
    async fn webhook_id(&self) -> String {
        self.0.event_id.to_string()
    }

    /// The event sent; null once it has left the log (retention).
    async fn event(&self, ctx: &Context<'_>) -> ApiResult<Option<Event>> {
        let found = request(ctx)
            .loader
            .load_one(EventById(self.0.event_id))
            .await
            .map_err(load_error)?;
        Ok(found.map(Event))
    }

    /// The event's type.
    async fn event_type(&self) -> EventType {
        self.0.event_type.into()
    }

    /// The event's place in the workspace's log.
    async fn event_sequence(&self) -> i64 {
        self.0.event_sequence
    }

    /// 1 for the event's first try at this endpoint, one more for each after.
    async fn attempt(&self) -> i32 {
        self.0.attempt
    }

    /// When it was sent (UTC).
    async fn attempted_at(&self) -> DateTime<Utc> {
        self.0.attempted_at
    }

    /// The response's HTTP status; null when none came (refused address,
    /// connection error, timeout).
    async fn status_code(&self) -> Option<i32> {
        self.0.status_code
    }

    /// From sending to the response (or the failure).
    async fn duration_ms(&self) -> i64 {
        self.0.duration_ms
    }

    /// What went wrong; null when it succeeded.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    /// Whether the endpoint answered 2xx.
    async fn succeeded(&self) -> bool {
        self.0.succeeded
    }

    /// Whether `redeliverWebhook` asked for it.
    async fn redelivery(&self) -> bool {
        self.0.redelivery
    }
}

connection!(
    /// A page of webhook endpoints, oldest first.
    WebhookEndpointConnection, WebhookEndpointEdge, WebhookEndpoint
);

connection!(
    /// A page of delivery attempts, newest first.
    WebhookDeliveryConnection, WebhookDeliveryEdge, WebhookDelivery
);

const ENDPOINT_ORDER: &str = "webhookEndpoints";
const DELIVERY_ORDER: &str = "webhookDeliveries";

async fn deliveries_page(
    ctx: &Context<'_>,
    endpoint: uuid::Uuid,
    args: PageArgs,
) -> ApiResult<WebhookDeliveryConnection> {
    let rc = request(ctx);
    let ws = rc.require(Scope::ConnectorsManage)?.workspace_id;
    let page = args.page(DELIVERY_ORDER)?;
    let rows = outbound::deliveries(&rc.db, ws, endpoint, &page).await?;
    let cursor = |d: &webhook_delivery::Model| {
        Cursor::new(DELIVERY_ORDER, SortKey::Time(d.attempted_at), d.id)
    };
    let (edges, page_info) = edges(rows, &page, cursor, WebhookDelivery);
    let total =
        CountBy(move |db| async move { outbound::count_deliveries(&db, ws, endpoint).await });
    Ok(WebhookDeliveryConnection::new(
        edges,
        page_info,
        TotalCount::new(total),
    ))
}

fn outbound<'a>(ctx: &Context<'a>) -> ApiResult<&'a Arc<Outbound>> {
    ctx.data_opt::<Arc<Outbound>>()
        .ok_or_else(|| ApiError::Internal("webhook delivery is not running".into()))
}

/// An endpoint to create.
#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// Where to POST: http or https, on a public address.
    url: String,
    /// The event types to send; every type when empty.
    #[graphql(default)]
    event_types: Vec<EventType>,
    /// What it is for, up to 500 characters.
    #[graphql(default)]
    description: String,
}

/// Changes to an endpoint; absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    /// The endpoint to change.
    id: ID,
    /// A new target: http or https, on a public address.
    url: Option<String>,
    /// The event types to send; every type when empty.
    event_types: Option<Vec<EventType>>,
    /// What it is for, up to 500 characters.
    description: Option<String>,
    /// `false` stops deliveries; `true` resumes them after the last event
    /// delivered and forgets past failures.
    enabled: Option<bool>,
}

/// The endpoint to delete.
#[derive(InputObject)]
pub struct DeleteWebhookEndpointInput {
    /// The endpoint's global id.
    id: ID,
}

/// The endpoint whose secret to replace.
#[derive(InputObject)]
pub struct RotateWebhookSecretInput {
    /// The endpoint's global id.
    id: ID,
    /// How long the old secret keeps signing beside the new one, 0 to
    /// 604800 (7 days); 86400 (24 h) when absent.
    #[graphql(default = 86400)]
    overlap_seconds: i32,
}

/// The delivery to send again.
#[derive(InputObject)]
pub struct RedeliverWebhookInput {
    /// A `WebhookDelivery` id: its event is sent again to its endpoint.
    delivery_id: ID,
}

/// The endpoint after `createWebhookEndpoint`, with its secret.
#[derive(SimpleObject)]
pub struct CreateWebhookEndpointPayload {
    /// The endpoint as saved.
    endpoint: WebhookEndpoint,
    /// `whsec_` and the base64 of 32 random bytes: verify signatures with
    /// it. Shown only here; no field returns it again.
    signing_secret: String,
}

/// The endpoint after `updateWebhookEndpoint`.
#[derive(SimpleObject)]
pub struct UpdateWebhookEndpointPayload {
    /// The endpoint as saved.
    endpoint: WebhookEndpoint,
}

/// What `deleteWebhookEndpoint` removed.
#[derive(SimpleObject)]
pub struct DeleteWebhookEndpointPayload {
    /// The id of the deleted endpoint.
    deleted_id: ID,
}

/// The endpoint after `rotateWebhookSecret`, with its new secret.
#[derive(SimpleObject)]
pub struct RotateWebhookSecretPayload {
    /// The endpoint as saved.
    endpoint: WebhookEndpoint,
    /// The new secret, shown only here.
    signing_secret: String,
}

/// The endpoint after `redeliverWebhook` queued the send.
#[derive(SimpleObject)]
pub struct RedeliverWebhookPayload {
    /// The endpoint the event goes to again.
    endpoint: WebhookEndpoint,
}

#[derive(Default)]
pub struct WebhookEndpointQuery;

#[Object]
impl WebhookEndpointQuery {
    /// The workspace's webhook endpoints, oldest first. Needs
    /// `connectors:manage`.
    async fn webhook_endpoints(
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
    ) -> ApiResult<WebhookEndpointConnection> {
        let rc = request(ctx);
        let ws = rc.require(Scope::ConnectorsManage)?.workspace_id;
        let page = PageArgs::new(first, after, None, None).page(ENDPOINT_ORDER)?;
        let rows = outbound::list(&rc.db, ws, &page).await?;
        let cursor = |e: &webhook_endpoint::Model| {
            Cursor::new(ENDPOINT_ORDER, SortKey::Time(e.created_at), e.id)
        };
        let (edges, page_info) = edges(rows, &page, cursor, WebhookEndpoint);
        let total = CountBy(move |db| async move { outbound::count(&db, ws).await });
        Ok(WebhookEndpointConnection::new(
            edges,
            page_info,
            TotalCount::new(total),
        ))
    }

    /// One endpoint's delivery attempts, newest first: status code,
    /// duration and error of each. NOT_FOUND when the endpoint is not in
    /// the token's workspace. Needs `connectors:manage`.
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint whose attempts to list.")] endpoint_id: ID,
        #[graphql(
            desc = "Page forward: at most this many items (0 to 500) from the start, or after `after`. 50 when neither `first` nor `last` is given; not with `last`."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor, taken from this same list and order."
        )]
        after: Option<String>,
    ) -> ApiResult<WebhookDeliveryConnection> {
        let id = ids::decode(&endpoint_id, NodeType::WebhookEndpoint)?;
        deliveries_page(ctx, id, PageArgs::new(first, after, None, None)).await
    }
}

#[derive(Default)]
pub struct WebhookEndpointMutation;

#[Object]
impl WebhookEndpointMutation {
    /// Creates an endpoint that receives the events recorded from now on,
    /// and returns its signing secret, once. BAD_USER_INPUT naming `url`
    /// when it is not http(s) or resolves to a loopback, private or
    /// link-local address; NOT_CONFIGURED without JOURNEYS_SECRET_KEY.
    /// Needs `connectors:manage`.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The target, the event types and a description.")]
        input: CreateWebhookEndpointInput,
    ) -> ApiResult<CreateWebhookEndpointPayload> {
        let out = outbound(ctx)?;
        let rc = request(ctx);
        let ws = rc.require(Scope::ConnectorsManage)?.workspace_id;
        let new = NewEndpoint {
            url: input.url,
            event_types: input.event_types.into_iter().map(Into::into).collect(),
            description: input.description,
        };
        let (model, secret) = out.create(ws, new).await?;
        Ok(CreateWebhookEndpointPayload {
            endpoint: WebhookEndpoint(model),
            signing_secret: secret,
        })
    }

    /// Changes an endpoint's target, types or description, or turns it off
    /// or on. Needs `connectors:manage`.
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint and what to change.")] input: UpdateWebhookEndpointInput,
    ) -> ApiResult<UpdateWebhookEndpointPayload> {
        let out = outbound(ctx)?;
        let rc = request(ctx);
        let ws = rc.require(Scope::ConnectorsManage)?.workspace_id;
        let id = ids::decode(&input.id, NodeType::WebhookEndpoint)?;
        let changes = EndpointChanges {
            url: input.url,
            event_types: input
                .event_types
                .map(|types| types.into_iter().map(Into::into).collect()),
            description: input.description,
            enabled: input.enabled,
        };
        let model = out.update(ws, id, changes).await?;
        Ok(UpdateWebhookEndpointPayload {
            endpoint: WebhookEndpoint(model),
        })
    }

    /// Deletes an endpoint and its attempts. Needs `connectors:manage`.
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint to delete.")] input: DeleteWebhookEndpointInput,
    ) -> ApiResult<DeleteWebhookEndpointPayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::ConnectorsManage)?.workspace_id;
        let key = ids::decode(&input.id, NodeType::WebhookEndpoint)?;
        outbound::delete(&rc.db, ws, key).await?;
        Ok(DeleteWebhookEndpointPayload {
            deleted_id: input.id,
        })
    }

    /// Replaces an endpoint's signing secret and returns the new one, once.
    /// For `overlapSeconds` the old secret signs too (`webhook-signature`
    /// then holds two signatures), so the receiver can switch without
    /// refusing a delivery. Needs `connectors:manage`.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint and the overlap.")] input: RotateWebhookSecretInput,
    ) -> ApiResult<RotateWebhookSecretPayload> {
        let out = outbound(ctx)?;
        let rc = request(ctx);
        let ws = rc.require(Scope::ConnectorsManage)?.workspace_id;
        let id = ids::decode(&input.id, NodeType::WebhookEndpoint)?;
        let overlap = chrono::Duration::seconds(input.overlap_seconds.into());
        let (model, secret) = out.rotate_secret(ws, id, overlap).await?;
        Ok(RotateWebhookSecretPayload {
            endpoint: WebhookEndpoint(model),
            signing_secret: secret,
        })
    }

    /// Queues one more send of a delivery's event to its endpoint, with the
    /// same `webhook-id`; it goes out within a tick and shows in
    /// `webhookDeliveries` as a new attempt with `redelivery: true` (tried
    /// once, not retried). CONFLICT when the endpoint is disabled or a
    /// redelivery is already queued; NOT_FOUND when the event has left the
    /// log. Needs `connectors:manage`.
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery whose event to send again.")] input: RedeliverWebhookInput,
    ) -> ApiResult<RedeliverWebhookPayload> {
        let rc = request(ctx);
        let ws = rc.require(Scope::ConnectorsManage)?.workspace_id;
        let id = ids::decode(&input.delivery_id, NodeType::WebhookDelivery)?;
        let model = outbound::redeliver(&rc.db, ws, id).await?;
        Ok(RedeliverWebhookPayload {
            endpoint: WebhookEndpoint(model),
        })
    }
}
