//! The `journeys` command: serve, migrate, schema, token (and token revoke),
//! workspace, sync, seed.

use anyhow::Context;
use std::process::ExitCode;

use clap::Parser;
use journeys::config::{
    Cli, Command, SeedArgs, ServeArgs, SyncArgs, TokenAction, TokenArgs, TokenCommand,
    WorkspaceCommand,
};
use journeys::demo;
use journeys::server::{self, ServerConfig};
use journeys_api::auth::{self, Scope, Verifier};
use journeys_api::graphql;
use journeys_api::graphql::limits::QueryLimits;
use journeys_core::connectors::secrets::SecretBox;
use journeys_core::db::{self, StatementCounter};
use journeys_core::outbound::WebhookSettings;
use journeys_core::{revocations, workspaces};
use tracing_subscriber::EnvFilter;

fn init_tracing() {
    let filter = EnvFilter::try_from_env("JOURNEYS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    // Colour only for a person at a terminal, never into a file or a collector.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if std::env::var("JOURNEYS_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let result = match cli.command {
        Command::Serve(args) => serve(cli.database.url(), args).await,
        Command::Migrate => db::connect(&cli.database.url(), &StatementCounter::default())
            .await
            .map(|_| eprintln!("database is migrated"))
            .map_err(anyhow::Error::from),
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Token(TokenCommand {
            action: Some(TokenAction::Revoke { jti, workspace }),
            ..
        }) => revoke(cli.database.url(), &jti, workspace.as_deref()).await,
        Command::Token(TokenCommand { mint, .. }) => token(cli.database.url(), mint).await,
        Command::Workspace(WorkspaceCommand::Create { slug, name }) => {
            create_workspace(cli.database.url(), &slug, &name).await
        }
        Command::Sync(args) => sync(cli.database.url(), args).await,
        Command::Seed(args) => seed(cli.database.url(), args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn seed(database_url: String, args: SeedArgs) -> anyhow::Result<()> {
    let db = db::connect(&database_url, &StatementCounter::default()).await?;
    let spec = journeys::seed::SeedSpec {
        workspace: args.workspace,
        accounts: args.accounts,
        people_per_account: args.people_per_account,
        touchpoints: args.touchpoints,
        seed: args.seed,
    };
    let bar = indicatif::ProgressBar::new(spec.touchpoints as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {human_pos}/{human_len} touchpoints ({per_sec}, {eta} left)",
        )?
        .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let seeded = journeys::seed::seed(&db, &spec, |n| bar.inc(n)).await?;
    bar.finish_and_clear();
    eprintln!(
        "seeded `{}` in {:.1} s: {} accounts, {} people, {} touchpoints",
        spec.workspace,
        started.elapsed().as_secs_f64(),
        seeded.accounts,
        seeded.people,
        seeded.touchpoints.created
    );
    Ok(())
}

async fn serve(database_url: String, mut args: ServeArgs) -> anyhow::Result<()> {
    let mut sources = args.jwt.key_sources();
    let demo_secret = if args.demo && sources.hs256_secret.is_none() {
        // A fresh secret per demo run: its tokens die with the process.
        let secret = random_secret();
        sources.hs256_secret = Some(secret.clone());
        Some(secret)
    } else {
        sources.hs256_secret.clone()
    };
    let verifier = Verifier::from_sources(&sources)?;
    anyhow::ensure!(
        verifier.has_keys(),
        "no JWT key configured: set JOURNEYS_JWT_SECRET, JOURNEYS_JWT_PUBLIC_KEY_FILE or JOURNEYS_JWKS_FILE (or run with --demo)"
    );
    args.jwt.jwt_secret = None;
    let secret_box = match args.secret_key.secret_box()? {
        Some(key) => Some(key),
        // Demo data dies with the process, and so may the key to its secrets.
        None if args.demo => Some(SecretBox::ephemeral()),
        None => {
            tracing::warn!("JOURNEYS_SECRET_KEY is not set: connectors cannot be created or run");
            None
        }
    };
    let running = server::start(ServerConfig {
        database_url,
        bind: args.bind,
        verifier,
        workers: None,
        cors_origins: args.cors_origins,
        secret_box,
        sync: args.sync.settings(),
        backfill_chunk: args.backfill_chunk,
        score_refresh: std::time::Duration::from_secs(3600),
        limits: QueryLimits::default(),
        rate_limit: args.rate_limit.limit(),
        token_cache: std::time::Duration::from_secs(args.token_cache_secs),
        event_retention: args.event_retention,
        subscriptions: Default::default(),
        webhooks: WebhookSettings {
            allow_private: args.webhook_allow_private,
            lease: std::time::Duration::from_secs(args.webhook_lease_secs),
            ..WebhookSettings::default()
        },
    })
    .await?;
    if args.demo {
        if demo::load(&running.db)
            .await
            .context("loading the demo workspace")?
        {
            tracing::info!("loaded the demo workspace");
        }
        let secret = demo_secret.ok_or_else(|| {
            anyhow::anyhow!("--demo mints its token with HS256: unset the public keys or set JOURNEYS_JWT_SECRET")
        })?;
        let token = auth::mint_hs256(
            &secret,
            "demo-admin",
            demo::DEMO_SLUG,
            &Scope::ALL,
            chrono::Duration::hours(24),
        )?;
        println!("playground: http://{}/graphiql", running.addr);
        println!("token: {token}");
    }
    tracing::info!(addr = %running.addr, "serving /graphql");
    let handle = running.handle.clone();
    let mut task = running.task;
    tokio::select! {
        result = &mut task => { result??; }
        _ = shutdown_signal() => {
            tracing::info!("shutting down: finishing in-flight requests and sync batches");
            running.closing.cancel();
            tokio::join!(handle.stop(true), running.sync.shutdown());
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("install the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn random_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn token(database_url: String, args: TokenArgs) -> anyhow::Result<()> {
    let secret = args
        .jwt_secret
        .ok_or_else(|| anyhow::anyhow!("set JOURNEYS_JWT_SECRET to mint tokens"))?;
    let mut scopes = Vec::new();
    for word in args.scope.split_whitespace() {
        let scope = Scope::parse(word).ok_or_else(|| {
            anyhow::anyhow!("unknown scope `{word}`: use journeys:read, journeys:write, connectors:manage or admin")
        })?;
        scopes.push(scope);
    }
    anyhow::ensure!(!scopes.is_empty(), "give at least one scope");
    let workspace = args
        .workspace
        .ok_or_else(|| anyhow::anyhow!("give the token's --workspace"))?;
    let db = db::connect(&database_url, &StatementCounter::default()).await?;
    anyhow::ensure!(
        workspaces::find_by_slug(&db, &workspace).await?.is_some(),
        "no workspace `{workspace}`: create it with `journeys workspace create`"
    );
    let token = auth::mint_hs256(&secret, &args.subject, &workspace, &scopes, args.ttl)?;
    println!("{token}");
    Ok(())
}

async fn revoke(database_url: String, jti: &str, workspace: Option<&str>) -> anyhow::Result<()> {
    let db = db::connect(&database_url, &StatementCounter::default()).await?;
    let workspace_id = match workspace {
        Some(slug) => Some(
            workspaces::find_by_slug(&db, slug)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no workspace `{slug}`"))?
                .id,
        ),
        None => None,
    };
    let txn = db::begin_write(&db).await?;
    let revoked = revocations::revoke(&txn, workspace_id, jti, "cli").await?;
    db::commit(txn).await?;
    eprintln!(
        "revoked `{}` in {} since {}",
        revoked.jti,
        workspace.map_or("every workspace".to_owned(), |s| format!("workspace `{s}`")),
        revoked.revoked_at.to_rfc3339()
    );
    Ok(())
}

async fn create_workspace(database_url: String, slug: &str, name: &str) -> anyhow::Result<()> {
    let db = db::connect(&database_url, &StatementCounter::default()).await?;
    let ws = workspaces::create(&db, slug, name).await?;
    eprintln!("created workspace `{}` ({})", ws.slug, ws.name);
    Ok(())
}

async fn sync(database_url: String, args: SyncArgs) -> anyhow::Result<()> {
    let db = db::connect(&database_url, &StatementCounter::default()).await?;
    let secret_box = args.secret_key.secret_box()?;
    let report = journeys::connectors::cli::sync_once(db, secret_box, &args.connector_id).await?;
    println!("{report}");
    anyhow::ensure!(report.succeeded(), "the sync did not succeed");
    Ok(())
}
