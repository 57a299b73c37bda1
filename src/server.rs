//! The HTTP server: routes, shared state, start and graceful stop.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpMessage, HttpResponse, HttpServer, web};
use async_graphql::http::GraphiQLSource;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;
use tracing_actix_web::{RequestId, TracingLogger};

use crate::connectors::builtin_plugins;
use journeys_api::auth::Verifier;
use journeys_api::graphql;
use journeys_api::graphql::limits::{QueryLimits, Shapes};
use journeys_api::graphql::root_nulls::RootFields;
use journeys_core::connectors::secrets::SecretBox;
use journeys_core::connectors::sync::{SyncRuntime, SyncSettings};
use journeys_core::db::{self, StatementCounter};
use journeys_core::journeys::backfill::{BackfillSettings, Backfills};
use journeys_core::live::{EventFeed, FeedSettings};
use journeys_core::outbound::{Outbound, WebhookSettings};
use journeys_core::revocations::TokenCache;

use crate::connectors::webhooks;
use crate::http;
use crate::rate_limit::{RateLimit, RateLimiter};
use crate::state::AppState;
use crate::ws::{self, SubscriptionSettings};

/// How to run a server.
pub struct ServerConfig {
    pub database_url: String,
    pub bind: String,
    pub verifier: Verifier,
    /// Worker threads; `None` for one per core.
    pub workers: Option<usize>,
    /// Origins allowed to call from a browser; `*` for any, empty for none.
    pub cors_origins: Vec<String>,
    /// Seals connector secrets; without it connectors cannot be created.
    pub secret_box: Option<SecretBox>,
    pub sync: SyncSettings,
    /// Accounts rebuilt per transaction when journeys are rebuilt.
    pub backfill_chunk: u64,
    /// How often stored scores are brought up to date with decay.
    pub score_refresh: std::time::Duration,
    /// What a query may cost.
    pub limits: QueryLimits,
    /// Requests per token (or client address) and minute.
    pub rate_limit: RateLimit,
    /// How long a token's workspace and revocation are kept per process.
    pub token_cache: std::time::Duration,
    /// How long the event log keeps an event.
    pub event_retention: chrono::Duration,
    /// Keep-alive and slow-subscriber settings of WebSocket connections.
    pub subscriptions: SubscriptionSettings,
    /// How partners' webhooks are delivered, and where they may go.
    pub webhooks: WebhookSettings,
}

/// A started server.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub db: DatabaseConnection,
    pub statements: StatementCounter,
    pub handle: actix_web::dev::ServerHandle,
    pub sync: Arc<SyncRuntime>,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Cancel it before a graceful stop: WebSocket connections close with
    /// 1001 instead of waiting out the stop's timeout.
    pub closing: CancellationToken,
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if db::is_ready(&state.db).await {
        HttpResponse::Ok().json(serde_json::json!({ "status": "ready" }))
    } else {
        HttpResponse::ServiceUnavailable().json(serde_json::json!({ "status": "unavailable" }))
    }
}

/// Returns the request id the tracing span carries, so a client can quote it.
async fn request_id_header(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req.extensions().get::<RequestId>().copied();
    let mut res = next.call(req).await?;
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id.to_string()).ok()) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}

/// Cross-origin access for browser dashboards, from `JOURNEYS_CORS_ORIGINS`.
fn cors(origins: &[String]) -> Cors {
    let cors = Cors::default()
        .allowed_methods(["GET", "POST"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers(["x-request-id"])
        .max_age(3600);
    if origins.iter().any(|o| o == "*") {
        cors.allow_any_origin()
    } else {
        origins
            .iter()
            .fold(cors, |cors, origin| cors.allowed_origin(origin))
    }
}

async fn graphiql() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .title("Journeys")
                .finish(),
        )
}

/// Connects and migrates the database, rescores the workspaces an older
/// release scored, binds, and starts serving in the background.
pub async fn start(config: ServerConfig) -> anyhow::Result<RunningServer> {
    let statements = StatementCounter::default();
    let db = db::connect(&config.database_url, &statements)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
    let rescored = journeys_core::scoring::rescore_outdated(&db)
        .await
        .map_err(|e| anyhow::anyhow!("cannot rescore the workspaces: {}", e.with_causes()))?;
    if rescored > 0 {
        tracing::info!(
            workspaces = rescored,
            "rescored what an older release scored"
        );
    }
    start_with(config, db, statements)
}

/// Starts serving on an already-open database.
pub fn start_with(
    config: ServerConfig,
    db: DatabaseConnection,
    statements: StatementCounter,
) -> anyhow::Result<RunningServer> {
    let listener = TcpListener::bind(&config.bind)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.bind))?;
    let addr = listener.local_addr()?;
    // Rebuilds are leased and taken over on the same terms as sync runs.
    let backfill = BackfillSettings {
        chunk: config.backfill_chunk,
        lease: config.sync.lease,
        tick: config.sync.tick,
    };
    let outbound = Outbound::new(
        db.clone(),
        config.secret_box.clone(),
        config.webhooks,
        journeys_api::webhook_endpoints::event_data,
    )
    .map_err(|e| anyhow::anyhow!("{}", e.with_causes()))?;
    let sync = SyncRuntime::new(
        db.clone(),
        Arc::new(builtin_plugins()),
        config.secret_box,
        config.sync,
    );
    sync.start_scheduler();
    journeys_core::scoring::keep_decay_fresh(db.clone(), config.score_refresh);
    journeys_core::retention::keep_pruned(db.clone(), config.event_retention);
    outbound.start();
    let feed = EventFeed::start(
        db.clone(),
        FeedSettings::for_backend(db.get_database_backend()),
    );
    let backfills = Backfills::start(db.clone(), backfill);
    let schema = graphql::schema();
    let root_fields = Arc::new(RootFields::of(&schema));
    let shapes = Arc::new(Shapes::of(&schema));
    let closing = CancellationToken::new();
    let state = web::Data::new(AppState {
        schema,
        root_fields,
        limits: config.limits,
        shapes,
        rate_limiter: RateLimiter::new(config.rate_limit),
        tokens: Arc::new(TokenCache::new(config.token_cache)),
        db: db.clone(),
        verifier: Arc::new(config.verifier),
        sync: Arc::clone(&sync),
        outbound,
        backfills,
        feed,
        subscriptions: config.subscriptions,
        closing: closing.clone(),
    });
    let origins = config.cors_origins;
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(cors(&origins))
            .wrap(from_fn(request_id_header))
            .wrap(TracingLogger::default())
            .app_data(state.clone())
            .service(
                web::resource("/graphql")
                    .route(
                        web::get()
                            .guard(actix_web::guard::fn_guard(|ctx| {
                                ctx.head()
                                    .headers()
                                    .get(header::UPGRADE)
                                    .and_then(|v| v.to_str().ok())
                                    .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
                            }))
                            .to(ws::graphql_ws),
                    )
                    .route(web::post().to(http::graphql_post))
                    .route(web::get().to(http::graphql_get))
                    .default_service(web::to(http::graphql_other)),
            )
            .service(
                web::resource("/webhooks/{connector_id}")
                    .route(web::post().to(webhooks::receive))
                    .route(web::get().to(webhooks::receive)),
            )
            .route("/graphiql", web::get().to(graphiql))
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz))
    })
    .listen(listener)?
    .disable_signals()
    .shutdown_timeout(30);
    if let Some(workers) = config.workers {
        server = server.workers(workers);
    }
    let server = server.run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    Ok(RunningServer {
        addr,
        db,
        statements,
        handle,
        sync,
        task,
        closing,
    })
}
