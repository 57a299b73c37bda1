//! `journeys seed`: a workspace of synthetic data at benchmark scale.
//!
//! Accounts of skewed sizes (the busiest has about 175 times the touchpoints
//! of the quietest), their people with DMU roles, and touchpoints from every
//! source the connectors know over two years, deeper into the journey as
//! time goes on, with NPS answers from customers and some accounts gone quiet
//! (stalled past their stage's target). Everything is recorded through
//! ingestion in batches of 1,000, so every derived table (positions,
//! transitions, scores, lifecycle changes) is what ingestion makes. A seeded
//! generator makes the same data for the same arguments.

use chrono::{DateTime, Duration, Utc};
use entity::vocab::{Channel, DmuRole, JourneyTemplate, Lifecycle};
use journeys_core::ingestion::{self, MAX_BATCH, NewPerson, NewTouchpoint, RawTouchpoint, Tally};
use journeys_core::journeys::models;
use journeys_core::people::accounts::{self, NewAccount};
use journeys_core::people::memberships;
use journeys_core::scoring::rules;
use journeys_core::vocab::NPS_KIND;
use journeys_core::{CoreError, db, workspaces};
use rand::distr::weighted::WeightedIndex;
use rand::prelude::Distribution;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::DatabaseConnection;
use std::collections::HashMap;
use uuid::Uuid;

use crate::demo::{ACTIVITIES, FIRST_NAMES, LAST_NAMES, SCORING_RULES};

/// What to seed.
#[derive(Debug, Clone)]
pub struct SeedSpec {
    /// The new workspace's slug.
    pub workspace: String,
    pub accounts: usize,
    /// People each account may have; those who never appear in a touchpoint
    /// are never made.
    pub people_per_account: usize,
    pub touchpoints: usize,
    /// The generator's seed.
    pub seed: u64,
}

/// What was seeded.
#[derive(Debug, Clone, Copy)]
pub struct Seeded {
    pub workspace: Uuid,
    pub accounts: usize,
    pub people: usize,
    pub touchpoints: Tally,
}

/// How long the seeded history lasts, ending now.
const HISTORY_DAYS: i64 = 730;

/// The roles people take in their account's decision-making unit, by their
/// place in it.
const ROLES: [DmuRole; 7] = [
    DmuRole::DecisionMaker,
    DmuRole::Buyer,
    DmuRole::Influencer,
    DmuRole::User,
    DmuRole::Champion,
    DmuRole::Gatekeeper,
    DmuRole::Initiator,
];

const INDUSTRIES: [&str; 6] = [
    "Software",
    "Healthcare",
    "Logistics",
    "Finance",
    "Education",
    "Media",
];

/// One seeded account.
struct Company {
    domain: String,
    /// How far along the journey it gets: 0 awareness … 3 service.
    depth: usize,
    /// Gone quiet from then on: its journey stalls.
    quiet_after: Option<DateTime<Utc>>,
}

/// Seeds a new workspace; `progress` hears how many touchpoints each batch
/// recorded. Refuses a workspace that exists.
pub async fn seed(
    db: &DatabaseConnection,
    spec: &SeedSpec,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<Seeded> {
    anyhow::ensure!(spec.accounts > 0, "--accounts must be at least 1");
    anyhow::ensure!(
        spec.people_per_account > 0,
        "--people-per-account must be at least 1"
    );
    if workspaces::find_by_slug(db, &spec.workspace)
        .await?
        .is_some()
    {
        anyhow::bail!("the workspace `{}` exists: seed a new one", spec.workspace);
    }
    let name = format!("{} (seeded)", spec.workspace);
    let ws = workspaces::create(db, &spec.workspace, &name).await?.id;
    let now = Utc::now() - Duration::hours(1);
    let start = now - Duration::days(HISTORY_DAYS);
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let companies = setup(db, ws, spec, start, &mut rng).await?;

    // Account `i` weighs (i + 1)^-0.75: the first has about 175 times the
    // touchpoints of the thousandth.
    let weights: Vec<f64> = (0..companies.len())
        .map(|i| (i as f64 + 1.0).powf(-0.75))
        .collect();
    let pick = WeightedIndex::new(&weights)?;
    let batches = spec.touchpoints.div_ceil(MAX_BATCH);
    let window = (now - start) / i32::try_from(batches.max(1))?;
    let mut people: HashMap<(usize, usize), Uuid> = HashMap::new();
    let mut tally = Tally::default();
    for b in 0..batches {
        let len = MAX_BATCH.min(spec.touchpoints - b * MAX_BATCH);
        let from = start + window * i32::try_from(b)?;
        let mut items: Vec<(DateTime<Utc>, usize, usize)> = (0..len)
            .map(|_| {
                let at = from + Duration::seconds(rng.random_range(0..window.num_seconds().max(1)));
                let company = (0..10)
                    .map(|_| pick.sample(&mut rng))
                    .find(|&c| companies[c].quiet_after.is_none_or(|q| at < q))
                    .unwrap_or(0);
                // The first people of an account are the most active.
                let n = spec.people_per_account;
                let person = rng.random_range(0..n).min(rng.random_range(0..n));
                (at, company, person)
            })
            .collect();
        items.sort_by_key(|(at, _, _)| *at);
        let raws: Vec<RawTouchpoint> = items
            .iter()
            .enumerate()
            .map(|(i, &(at, c, p))| {
                let progress =
                    (at - start).num_seconds() as f64 / (now - start).num_seconds() as f64;
                touchpoint(
                    &mut rng,
                    &companies[c],
                    c,
                    p,
                    at,
                    progress,
                    &format!("{b}-{i}"),
                )
            })
            .collect();
        let recorded = ingestion::record(db, ws, raws.len(), |checked_at| {
            raws.iter()
                .map(|raw| NewTouchpoint::check(raw.clone(), checked_at))
                .collect()
        })
        .await?;
        for ((_, c, p), r) in items.iter().zip(&recorded) {
            if let Ok(Some(t)) = &r.result
                && let Some(person) = t.stakeholder_id
            {
                people.entry((*c, *p)).or_insert(person);
            }
        }
        let batch = Tally::of(&recorded);
        anyhow::ensure!(
            batch.failed == 0,
            "a seeded touchpoint was refused: {:?}",
            recorded.iter().find_map(|r| r.result.as_ref().err())
        );
        tally.add(batch);
        progress(len as u64);
    }
    let roles: Vec<(Uuid, DmuRole)> = people
        .iter()
        .map(|(&(_, p), &id)| (id, ROLES[p % ROLES.len()]))
        .collect();
    let txn = db::begin_write(db).await?;
    memberships::assign_roles(&txn, ws, &roles).await?;
    db::commit(txn).await?;
    Ok(Seeded {
        workspace: ws,
        accounts: companies.len(),
        people: people.len(),
        touchpoints: tally,
    })
}

/// The journey models, scoring rules and accounts, in one transaction.
async fn setup(
    db: &DatabaseConnection,
    ws: Uuid,
    spec: &SeedSpec,
    start: DateTime<Utc>,
    rng: &mut StdRng,
) -> Result<Vec<Company>, CoreError> {
    let txn = db::begin_write(db).await?;
    // Beside the default FIVE_STAGE: one with continuous phases, one more.
    for template in [JourneyTemplate::BabcockJenkins, JourneyTemplate::Kopan] {
        models::create_from_template(&txn, ws, template, false).await?;
    }
    for (name, kind, points, max_count, half_life_days) in SCORING_RULES {
        let rule = rules::RuleSpec {
            name: name.into(),
            kind: Some(kind.into()),
            channel: None,
            points,
            max_count,
            half_life_days,
        }
        .check()?;
        rules::upsert(&txn, ws, rule).await?;
    }
    let mut companies = Vec::with_capacity(spec.accounts);
    for i in 0..spec.accounts {
        let domain = format!("{}{i:05}.example", spec.workspace);
        let name = format!(
            "{} {} {i}",
            LAST_NAMES[i % LAST_NAMES.len()],
            INDUSTRIES[i % INDUSTRIES.len()]
        );
        let input = NewAccount {
            name,
            domains: vec![domain.clone()],
            industry: Some(INDUSTRIES[i % INDUSTRIES.len()].into()),
            employees: Some(rng.random_range(10..5_000)),
            lifecycle: Lifecycle::Visitor,
            owner: Some(format!("owner{}@journeys.example", i % 7)),
        };
        accounts::create_at(&txn, ws, input, start).await?;
        // One in seven goes quiet somewhere in the second year.
        let quiet_after = (i % 7 == 3).then(|| {
            let days = rng.random_range(HISTORY_DAYS / 2..HISTORY_DAYS - 60);
            start + Duration::days(days)
        });
        companies.push(Company {
            domain,
            depth: [0, 1, 1, 2, 2, 3, 3, 3][i % 8],
            quiet_after,
        });
    }
    db::commit(txn).await?;
    Ok(companies)
}

/// One touchpoint of `person` at `company` (the `c`-th), `progress` of the
/// way through the history: the deeper the account gets and the later it
/// is, the further along the journey what it does.
fn touchpoint(
    rng: &mut StdRng,
    company: &Company,
    c: usize,
    person: usize,
    at: DateTime<Utc>,
    progress: f64,
    serial: &str,
) -> RawTouchpoint {
    let reached = company.depth.min((progress * 4.0) as usize);
    let first = FIRST_NAMES[(c * 3 + person) % FIRST_NAMES.len()];
    let last = LAST_NAMES[(c + person * 5) % LAST_NAMES.len()];
    let email = format!(
        "{}.{}{person}@{}",
        first.to_lowercase(),
        last.to_lowercase(),
        company.domain
    );
    let who = NewPerson {
        email: Some(email),
        name: Some(format!("{first} {last}")),
        ..NewPerson::default()
    };
    if reached == 3 && rng.random_bool(0.05) {
        // A customer answers the NPS survey: mostly promoters.
        let score = match rng.random_range(0..10) {
            0..3 => rng.random_range(0..7),
            3..6 => rng.random_range(7..9),
            _ => rng.random_range(9..11),
        };
        return RawTouchpoint {
            score: Some(f64::from(score)),
            person: Some(who),
            ..RawTouchpoint::new(
                "survey",
                &format!("nps-{serial}"),
                Channel::Other,
                NPS_KIND,
                at,
            )
        };
    }
    let open: Vec<_> = ACTIVITIES
        .iter()
        .filter(|a| a.min_depth <= reached)
        .collect();
    let activity = open[rng.random_range(0..open.len())];
    let felt = crate::demo::feeling(activity.kind, true);
    RawTouchpoint {
        title: Some(activity.title.into()),
        owner_team: Some(activity.team),
        emotion: felt.map(|(e, _)| e),
        sentiment: felt.map(|(_, s)| s),
        person: Some(who),
        ..RawTouchpoint::new(
            activity.source,
            &format!("{}-{serial}", activity.source),
            activity.channel,
            activity.kind,
            at,
        )
    }
}
