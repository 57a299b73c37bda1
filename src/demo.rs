//! The `--demo` workspace: fourteen accounts at different stages (two of them
//! lost deals), their people with roles, and a few hundred touchpoints from
//! every source over 90 days, with the content sales used and what customers
//! felt.
//!
//! It is written through the same functions the API uses, so the demo shows
//! exactly what ingestion would have made. A seeded generator keeps it the same
//! on every machine.

use chrono::{Duration, Utc};
use entity::vocab::JourneyTemplate;
use entity::vocab::{Channel, OwnerTeam};
use entity::vocab::{DmuRole, Emotion, Lifecycle};
use journeys_core::ingestion::{self, NewPerson, NewTouchpoint, PropertiesUpdate, RawTouchpoint};
use journeys_core::journeys::editing;
use journeys_core::journeys::models;
use journeys_core::journeys::playbooks::PlaybookStep;
use journeys_core::lifecycle::{self, Subject};
use journeys_core::people::accounts::{self, NewAccount};
use journeys_core::people::{memberships, stakeholders};
use journeys_core::scoring::rules;
use journeys_core::vocab::NPS_KIND;
use journeys_core::{CoreResult, workspaces};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{DatabaseConnection, TransactionTrait};

pub const DEMO_SLUG: &str = "demo";

struct DemoAccount {
    name: &'static str,
    domain: &'static str,
    industry: &'static str,
    employees: i32,
    lifecycle: Lifecycle,
    /// How far along the journey: 0 awareness … 4 advocacy.
    depth: usize,
}

const ACCOUNTS: [DemoAccount; 14] = [
    DemoAccount {
        name: "Acme Analytics",
        domain: "acme-analytics.com",
        industry: "Software",
        employees: 420,
        lifecycle: Lifecycle::Customer,
        depth: 4,
    },
    DemoAccount {
        name: "Borealis Energy",
        domain: "borealis-energy.com",
        industry: "Energy",
        employees: 2300,
        lifecycle: Lifecycle::Opportunity,
        depth: 2,
    },
    DemoAccount {
        name: "Cobalt Health",
        domain: "cobalthealth.org",
        industry: "Healthcare",
        employees: 860,
        lifecycle: Lifecycle::Sql,
        depth: 2,
    },
    DemoAccount {
        name: "Delta Logistics",
        domain: "deltalogistics.io",
        industry: "Logistics",
        employees: 150,
        lifecycle: Lifecycle::Mql,
        depth: 1,
    },
    DemoAccount {
        name: "Evergreen Retail",
        domain: "evergreen-retail.com",
        industry: "Retail",
        employees: 5200,
        lifecycle: Lifecycle::Customer,
        depth: 3,
    },
    DemoAccount {
        name: "Fjord Financial",
        domain: "fjordfinancial.no",
        industry: "Financial services",
        employees: 640,
        lifecycle: Lifecycle::Lead,
        depth: 1,
    },
    DemoAccount {
        name: "Granite Manufacturing",
        domain: "granite-mfg.com",
        industry: "Manufacturing",
        employees: 1800,
        lifecycle: Lifecycle::Promoter,
        depth: 4,
    },
    DemoAccount {
        name: "Helix Biotech",
        domain: "helixbio.com",
        industry: "Biotech",
        employees: 95,
        lifecycle: Lifecycle::Visitor,
        depth: 0,
    },
    DemoAccount {
        name: "Ion Telecom",
        domain: "iontelecom.net",
        industry: "Telecommunications",
        employees: 3100,
        lifecycle: Lifecycle::Churned,
        depth: 3,
    },
    DemoAccount {
        name: "Juniper Education",
        domain: "juniper.edu",
        industry: "Education",
        employees: 270,
        lifecycle: Lifecycle::Lead,
        depth: 0,
    },
    DemoAccount {
        name: "Kestrel Media",
        domain: "kestrelmedia.co",
        industry: "Media",
        employees: 60,
        lifecycle: Lifecycle::Opportunity,
        depth: 2,
    },
    DemoAccount {
        name: "Lumen Security",
        domain: "lumensec.io",
        industry: "Cybersecurity",
        employees: 330,
        lifecycle: Lifecycle::Customer,
        depth: 3,
    },
    // Two deals lost: last, so that the generator draws the same for the rest.
    DemoAccount {
        name: "Mistral Foods",
        domain: "mistralfoods.fr",
        industry: "Food & beverage",
        employees: 1200,
        lifecycle: Lifecycle::Disqualified,
        depth: 2,
    },
    DemoAccount {
        name: "Nimbus Travel",
        domain: "nimbustravel.com",
        industry: "Travel",
        employees: 410,
        lifecycle: Lifecycle::Disqualified,
        depth: 2,
    },
];

pub(crate) const FIRST_NAMES: [&str; 16] = [
    "Ada", "Bruno", "Chidi", "Dana", "Elif", "Farah", "Goran", "Hana", "Ivan", "Jun", "Kemi",
    "Luis", "Maya", "Nils", "Olga", "Priya",
];
pub(crate) const LAST_NAMES: [&str; 12] = [
    "Ahmed", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
    "Kowalski", "Lee",
];
const ROLES: [(DmuRole, &str); 5] = [
    (DmuRole::DecisionMaker, "VP Operations"),
    (DmuRole::Champion, "Head of Analytics"),
    (DmuRole::Influencer, "Data Engineer"),
    (DmuRole::User, "Customer Success Lead"),
    (DmuRole::Buyer, "Procurement Manager"),
];

/// A kind of touchpoint the demo (and `journeys seed`) makes, and from which
/// journey depth on.
pub(crate) struct Activity {
    pub source: &'static str,
    pub channel: Channel,
    pub kind: &'static str,
    pub team: OwnerTeam,
    pub min_depth: usize,
    pub title: &'static str,
}

/// A scoring rule: name, kind, points, cap, half-life in days.
pub(crate) type DemoRule = (&'static str, &'static str, f64, Option<i32>, Option<f64>);

pub(crate) const SCORING_RULES: [DemoRule; 6] = [
    (
        "Webinar attended",
        "webinar.attended",
        15.0,
        None,
        Some(60.0),
    ),
    (
        "Webinar registered",
        "webinar.registered",
        10.0,
        Some(3),
        Some(60.0),
    ),
    (
        "Whitepaper downloaded",
        "whitepaper.downloaded",
        8.0,
        Some(3),
        Some(30.0),
    ),
    ("Email clicked", "email.clicked", 3.0, Some(5), Some(14.0)),
    ("Mentioned us", "tweet.mention", 5.0, Some(4), Some(14.0)),
    ("Sales meeting", "meeting.held", 20.0, None, None),
];

pub(crate) const ACTIVITIES: [Activity; 12] = [
    Activity {
        source: "twitter",
        channel: Channel::Social,
        kind: "tweet.mention",
        team: OwnerTeam::Marketing,
        min_depth: 0,
        title: "Mentioned @journeys",
    },
    Activity {
        source: "web",
        channel: Channel::Web,
        kind: "page.visited",
        team: OwnerTeam::Marketing,
        min_depth: 0,
        title: "Visited /pricing",
    },
    Activity {
        source: "web",
        channel: Channel::Web,
        kind: "whitepaper.downloaded",
        team: OwnerTeam::Marketing,
        min_depth: 0,
        title: "Downloaded 'Closing the hand-off gap'",
    },
    Activity {
        source: "zoom",
        channel: Channel::Webinar,
        kind: "webinar.registered",
        team: OwnerTeam::Marketing,
        min_depth: 1,
        title: "Registered: Journey analytics 101",
    },
    Activity {
        source: "zoom",
        channel: Channel::Webinar,
        kind: "webinar.attended",
        team: OwnerTeam::Marketing,
        min_depth: 1,
        title: "Attended: Journey analytics 101",
    },
    Activity {
        source: "email",
        channel: Channel::Email,
        kind: "email.clicked",
        team: OwnerTeam::Marketing,
        min_depth: 1,
        title: "Clicked: Your funnel, explained",
    },
    Activity {
        source: "email",
        channel: Channel::Email,
        kind: "email.replied",
        team: OwnerTeam::Sales,
        min_depth: 2,
        title: "Replied to the follow-up",
    },
    Activity {
        source: "api",
        channel: Channel::Meeting,
        kind: "meeting.held",
        team: OwnerTeam::Sales,
        min_depth: 2,
        title: "Discovery call",
    },
    Activity {
        source: "api",
        channel: Channel::Meeting,
        kind: "demo.requested",
        // The prospect's request through the website's form: sales has yet
        // to answer it.
        team: OwnerTeam::Marketing,
        min_depth: 2,
        title: "Requested a demo",
    },
    Activity {
        source: "zendesk",
        channel: Channel::Support,
        kind: "ticket.opened",
        team: OwnerTeam::Service,
        min_depth: 3,
        title: "SSO login fails for new users",
    },
    Activity {
        source: "zendesk",
        channel: Channel::Support,
        kind: "ticket.solved",
        team: OwnerTeam::Service,
        min_depth: 3,
        title: "Solved: SSO login",
    },
    Activity {
        source: "zendesk",
        channel: Channel::Support,
        kind: "satisfaction.rated",
        team: OwnerTeam::Service,
        min_depth: 3,
        title: "Rated the support",
    },
];

/// The lifecycles an account went through to reach `to`.
fn lifecycle_path(to: Lifecycle) -> Vec<Lifecycle> {
    use Lifecycle::*;
    let won = [Lead, Mql, Sql, Opportunity, Customer];
    match to {
        Visitor => vec![Visitor],
        Disqualified => vec![Lead, Mql, Disqualified],
        Promoter | Churned => won.into_iter().chain([to]).collect(),
        _ => {
            let reached = won.iter().position(|l| *l == to).unwrap_or(0);
            won[..=reached].to_vec()
        }
    }
}

/// What a customer feels in a touchpoint of `kind`, with its sentiment: the
/// pain that brings them, the need a webinar speaks to, the fear of a big
/// purchase, the problem in a ticket, the desire of an advocate. `good` is a
/// satisfaction rating's verdict.
pub(crate) fn feeling(kind: &str, good: bool) -> Option<(Emotion, f64)> {
    Some(match kind {
        "tweet.mention" => (Emotion::Pain, -0.5),
        "page.visited" | "ticket.opened" => (Emotion::Problem, -0.3),
        "whitepaper.downloaded" | "webinar.registered" => (Emotion::Need, 0.1),
        "webinar.attended" | "email.clicked" | "asset.viewed" => (Emotion::Want, 0.4),
        "email.replied" | "meeting.held" => (Emotion::Fear, -0.2),
        "demo.requested" | "ticket.solved" | "review.posted" | "referral.made" => {
            (Emotion::Desire, 0.7)
        }
        "satisfaction.rated" if good => (Emotion::Desire, 0.8),
        "satisfaction.rated" => (Emotion::Pain, -0.7),
        _ => return None,
    })
}

/// The demo's content: its key, title and address.
type Content = (&'static str, &'static str);

const WHITEPAPER: Content = ("hand-off-gap-whitepaper", "Closing the hand-off gap");
const ROI_CALCULATOR: Content = ("roi-calculator", "The journey ROI calculator");
const PRICING_SHEET: Content = ("pricing-sheet", "Pricing and plans");
const COMPARISON: Content = ("competitor-comparison", "Journeys compared");

fn asset((key, title): Content) -> ingestion::Asset {
    ingestion::Asset {
        key: key.into(),
        title: Some(title.into()),
        url: Some(format!("https://journeys.example/content/{key}")),
    }
}

/// The name of an account's `person`-th stakeholder.
fn person_name(account: usize, person: usize) -> (&'static str, &'static str) {
    (
        FIRST_NAMES[(account * 3 + person) % FIRST_NAMES.len()],
        LAST_NAMES[(account + person * 5) % LAST_NAMES.len()],
    )
}

fn person_email(account: usize, person: usize, domain: &str) -> String {
    let (first, last) = person_name(account, person);
    format!("{}.{}@{domain}", first.to_lowercase(), last.to_lowercase())
}

/// Records a batch through ingestion, as a client or a connector would.
async fn record(
    db: &DatabaseConnection,
    ws: uuid::Uuid,
    batch: &[RawTouchpoint],
) -> CoreResult<()> {
    ingestion::record(db, ws, batch.len(), |now| {
        batch
            .iter()
            .map(|raw| NewTouchpoint::check(raw.clone(), now))
            .collect()
    })
    .await?;
    Ok(())
}

/// Creates the demo workspace unless it exists; returns whether it was created.
pub async fn load(db: &DatabaseConnection) -> CoreResult<bool> {
    if workspaces::find_by_slug(db, DEMO_SLUG).await?.is_some() {
        return Ok(false);
    }
    let ws = workspaces::create(db, DEMO_SLUG, "Demo Company").await?.id;
    let mut rng = StdRng::seed_from_u64(2026);
    let now = Utc::now();
    let txn = db.begin().await?;
    for template in [JourneyTemplate::Aida, JourneyTemplate::Mckinsey] {
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
    txn.commit().await?;
    let mut batch = Vec::new();
    let mut serial = 0;
    for (a, spec) in ACCOUNTS.iter().enumerate() {
        let txn = db.begin().await?;
        let path = lifecycle_path(spec.lifecycle);
        let owner = ["sam@journeys.example", "alex@journeys.example"][a % 2];
        let account = accounts::create_at(
            &txn,
            ws,
            NewAccount {
                name: spec.name.into(),
                domains: vec![spec.domain.into()],
                industry: Some(spec.industry.into()),
                employees: Some(spec.employees),
                lifecycle: path[0],
                owner: Some(owner.into()),
            },
            now - Duration::days(90),
        )
        .await?;
        // Its lifecycle moved on over the 90 days, a step at a time, as its
        // owner recorded it.
        for (step, pair) in path.windows(2).enumerate() {
            let days_ago = 90 - (step as i64 + 1) * 80 / path.len() as i64;
            let change = lifecycle::Change {
                from: Some(pair[0]),
                to: pair[1],
                at: now - Duration::days(days_ago),
                cause: "set by hand",
                actor: Some(owner),
                touchpoint: None,
            };
            lifecycle::set(&txn, ws, Subject::Account(account.id), change).await?;
        }
        let people = 2 + a % 3;
        // Visitors left no email: they are known by an anonymous id (and
        // their X handle) until they fill in a form.
        let anonymous = spec.lifecycle == Lifecycle::Visitor;
        let mut contacts = Vec::new();
        for p in 0..people {
            let (first, last) = person_name(a, p);
            let email = (!anonymous).then(|| person_email(a, p, spec.domain));
            let (role, title) = ROLES[(a + p) % ROLES.len()];
            let handle = format!("{}{}", first.to_lowercase(), &last[..1].to_lowercase());
            let mut identities = vec![(entity::vocab::IdentityKind::TwitterHandle, handle.clone())];
            let visitor_id = anonymous.then(|| format!("demo-visitor-{a}-{p}"));
            if let Some(id) = &visitor_id {
                identities.push((entity::vocab::IdentityKind::AnonymousId, id.clone()));
            }
            let person = stakeholders::insert(
                &txn,
                ws,
                stakeholders::NewStakeholder {
                    seen_at: now - Duration::days(90),
                    name: (!anonymous).then(|| format!("{first} {last}")),
                    email: email.clone(),
                    title: (!anonymous).then(|| title.into()),
                    lifecycle: spec.lifecycle,
                    identities,
                },
            )
            .await?;
            memberships::upsert(&txn, ws, account.id, person.id, Some(role), Some(true)).await?;
            contacts.push((email, handle, visitor_id));
        }
        txn.commit().await?;

        let touches = 8 + spec.depth * 7 + rng.random_range(0..6);
        for _ in 0..touches {
            let allowed: Vec<&Activity> = ACTIVITIES
                .iter()
                .filter(|x| x.min_depth <= spec.depth)
                .collect();
            let activity = allowed[rng.random_range(0..allowed.len())];
            let (email, handle, visitor_id) = &contacts[rng.random_range(0..contacts.len())];
            // Later activities happen later in the 90 days.
            let earliest = 89 - (activity.min_depth as i64 * 15);
            let days_ago = rng.random_range(1..=earliest.max(2));
            let occurred_at =
                now - Duration::days(days_ago) - Duration::minutes(rng.random_range(0..1440));
            serial += 1;
            let person = if activity.source == "twitter" {
                NewPerson {
                    twitter_handle: Some(handle.clone()),
                    ..Default::default()
                }
            } else {
                NewPerson {
                    email: email.clone(),
                    anonymous_id: visitor_id.clone(),
                    ..Default::default()
                }
            };
            // CSAT as the Zendesk connector records it: 1 for good, 0 for
            // bad, four in five good (one draw, only for a rating).
            let rated = activity.kind == "satisfaction.rated";
            let good = rated && rng.random_range(0..5_i32) != 0;
            batch.push(RawTouchpoint {
                source: activity.source.into(),
                external_id: format!("demo-{serial}"),
                channel: activity.channel,
                kind: activity.kind.into(),
                occurred_at,
                title: Some(if rated {
                    if good { "Rated good" } else { "Rated bad" }.into()
                } else {
                    activity.title.into()
                }),
                body: None,
                url: None,
                owner_team: Some(activity.team),
                actor: (activity.team == OwnerTeam::Sales)
                    .then(|| "sam@journeys.example".to_owned()),
                emotion: feeling(activity.kind, good).map(|(e, _)| e),
                sentiment: feeling(activity.kind, good).map(|(_, s)| s),
                score: rated.then_some(if good { 1.0 } else { 0.0 }),
                properties: rated
                    .then(|| serde_json::json!({ "rating": if good { "good" } else { "bad" } })),
                asset: (activity.kind == "whitepaper.downloaded").then(|| asset(WHITEPAPER)),
                account: None,
                stakeholder: None,
                person: Some(person),
                account_hint: None,
                properties_update: PropertiesUpdate::Replace,
            });
        }
    }
    // Customers answered the NPS survey last month.
    for (i, spec) in ACCOUNTS.iter().enumerate().filter(|(_, a)| a.depth >= 3) {
        let score = [10.0, 9.0, 6.0, 10.0, 3.0, 8.0][i % 6];
        batch.push(RawTouchpoint {
            source: "survey".into(),
            external_id: format!("demo-nps-{i}"),
            channel: Channel::Email,
            kind: NPS_KIND.into(),
            occurred_at: now - Duration::days(20 + i as i64),
            title: Some("How likely are you to recommend us?".into()),
            body: None,
            url: None,
            owner_team: Some(OwnerTeam::Relationship),
            actor: None,
            emotion: None,
            sentiment: None,
            score: Some(score),
            properties: None,
            asset: None,
            account: None,
            stakeholder: None,
            account_hint: None,
            properties_update: PropertiesUpdate::Replace,
            person: Some(NewPerson {
                email: Some(person_email(i, 0, spec.domain)),
                ..Default::default()
            }),
        });
    }
    // Recorded day by day, as a connector would have, so that stage moves and
    // qualifications carry the day they happened.
    batch.sort_by_key(|t| t.occurred_at);
    let mut days = batch.chunk_by(|a, b| a.occurred_at.date_naive() == b.occurred_at.date_naive());
    for day in &mut days {
        record(db, ws, day).await?;
    }
    // A slow hand-off: the leads that qualified got their first sales call only
    // this week.
    let mut calls = Vec::new();
    for (i, spec) in ACCOUNTS
        .iter()
        .enumerate()
        .filter(|(_, a)| a.lifecycle == Lifecycle::Lead)
    {
        calls.push(RawTouchpoint {
            source: "api".into(),
            external_id: format!("demo-call-{i}"),
            channel: Channel::Phone,
            kind: "call.held".into(),
            occurred_at: now - Duration::days(2 + i as i64 % 3),
            title: Some("First sales call".into()),
            body: None,
            url: None,
            owner_team: Some(OwnerTeam::Sales),
            actor: Some("sam@journeys.example".into()),
            emotion: None,
            sentiment: None,
            score: None,
            properties: None,
            asset: None,
            account: None,
            stakeholder: None,
            account_hint: None,
            properties_update: PropertiesUpdate::Replace,
            person: Some(NewPerson {
                email: Some(person_email(i, 0, spec.domain)),
                ..Default::default()
            }),
        });
    }
    record(db, ws, &calls).await?;
    won_this_week(db, ws, now).await?;
    guided(db, ws, now).await?;
    content_in_deals(db, ws, now).await?;
    Ok(true)
}

/// The playbooks of the default model's stages, in order, by stage key:
/// each step's text, team and the touchpoint kinds that show it done.
/// A playbook step: its text, its team, and the kinds that show it done.
type Step = (&'static str, OwnerTeam, &'static [&'static str]);

const PLAYBOOKS: [(&str, &[Step]); 4] = [
    (
        "consideration",
        &[
            (
                "Invite them to the next product webinar",
                OwnerTeam::Marketing,
                &["webinar.registered"],
            ),
            (
                "Send the buyer's guide",
                OwnerTeam::Marketing,
                &["whitepaper.downloaded"],
            ),
        ],
    ),
    (
        "purchase_decision",
        &[
            (
                "Book a demo with the decision maker",
                OwnerTeam::Sales,
                &["demo.requested", "meeting.held"],
            ),
            ("Send the proposal", OwnerTeam::Sales, &["proposal.sent"]),
            ("Agree a mutual close plan", OwnerTeam::Sales, &[]),
        ],
    ),
    (
        "retention",
        &[
            (
                "Hold the onboarding call",
                OwnerTeam::Service,
                &["onboarding.completed"],
            ),
            (
                "Review open tickets with the customer",
                OwnerTeam::Service,
                &[],
            ),
        ],
    ),
    (
        "loyalty_advocacy",
        &[
            (
                "Ask for a review",
                OwnerTeam::Relationship,
                &["review.posted"],
            ),
            (
                "Invite them to the referral programme",
                OwnerTeam::Relationship,
                &["referral.made"],
            ),
        ],
    ),
];

/// What next steps and briefs pick up: playbooks on the default model, an
/// open support ticket at Acme Analytics (as the Zendesk connector records
/// one), and a detractor at Evergreen Retail that nobody has answered yet.
async fn guided(
    db: &DatabaseConnection,
    ws: uuid::Uuid,
    now: chrono::DateTime<Utc>,
) -> CoreResult<()> {
    let model = journeys_core::batch::default_model(db, ws)
        .await?
        .expect("a workspace has a default model");
    let stages = journeys_core::batch::stages_of(db, ws, &[model.id]).await?;
    let txn = db.begin().await?;
    for stage in stages.get(&model.id).into_iter().flatten() {
        let Some((_, steps)) = PLAYBOOKS.iter().find(|(key, _)| *key == stage.key) else {
            continue;
        };
        let playbook = steps
            .iter()
            .map(|(text, team, done)| PlaybookStep {
                text: (*text).into(),
                owner_team: *team,
                done_when: done.iter().map(|k| (*k).to_owned()).collect(),
            })
            .collect();
        let changes = editing::StageChanges {
            playbook: Some(playbook),
            ..Default::default()
        };
        editing::update_stage(&txn, ws, stage.id, changes).await?;
    }
    txn.commit().await?;
    let person = |name: &str| {
        let (i, spec) = ACCOUNTS
            .iter()
            .enumerate()
            .find(|(_, a)| a.name == name)
            .expect("a demo account");
        Some(NewPerson {
            email: Some(person_email(i, 0, spec.domain)),
            ..Default::default()
        })
    };
    let mut ticket = RawTouchpoint::new(
        "zendesk",
        "ticket:4711:opened",
        Channel::Support,
        "ticket.opened",
        now - Duration::days(2),
    );
    ticket.title = Some("Dashboard export times out".into());
    ticket.url = Some("https://acme-analytics.zendesk.example/agent/tickets/4711".into());
    ticket.properties = Some(serde_json::json!({ "ticket_id": 4711, "status": "open" }));
    ticket.person = person("Acme Analytics");
    let mut answer = RawTouchpoint::new(
        "survey",
        "demo-nps-evergreen",
        Channel::Email,
        NPS_KIND,
        now - Duration::hours(20),
    );
    answer.title = Some("How likely are you to recommend us?".into());
    answer.body = Some("Reporting is too slow for our stores.".into());
    answer.score = Some(4.0);
    answer.person = person("Evergreen Retail");
    record(db, ws, &[ticket, answer]).await
}

/// The workspace's lifecycle rules from here on: this week Kestrel Media
/// signed (a `deal.won` made it a CUSTOMER) and its buyer answered the NPS
/// survey with a 10 (which made it a PROMOTER), with no hand involved.
async fn won_this_week(
    db: &DatabaseConnection,
    ws: uuid::Uuid,
    now: chrono::DateTime<Utc>,
) -> CoreResult<()> {
    let txn = db.begin().await?;
    lifecycle::rules::install(&txn, ws, lifecycle::rules::Template::Standard).await?;
    txn.commit().await?;
    let (i, spec) = ACCOUNTS
        .iter()
        .enumerate()
        .find(|(_, a)| a.name == "Kestrel Media")
        .expect("the demo has Kestrel Media");
    let email = person_email(i, 0, spec.domain);
    let touch = |id: &str, channel, kind: &str, days_ago: i64, team, score| {
        let mut raw = RawTouchpoint::new("api", id, channel, kind, now - Duration::days(days_ago));
        raw.owner_team = Some(team);
        raw.score = score;
        raw.person = Some(NewPerson {
            email: Some(email.clone()),
            ..Default::default()
        });
        raw
    };
    let mut signed = touch(
        "demo-deal-won",
        Channel::Meeting,
        "deal.won",
        3,
        OwnerTeam::Sales,
        None,
    );
    signed.title = Some("Contract signed".into());
    signed.actor = Some("sam@journeys.example".into());
    record(db, ws, &[signed]).await?;
    let mut answer = touch(
        "demo-nps-kestrel",
        Channel::Email,
        NPS_KIND,
        1,
        OwnerTeam::Relationship,
        Some(10.0),
    );
    answer.title = Some("How likely are you to recommend us?".into());
    record(db, ws, &[answer]).await
}

/// Sales content in won and lost deals, and advocates: the ROI calculator
/// went to five deals that were won and none that were lost; the pricing
/// sheet to both lost deals (and to Ion Telecom, won and since churned); the
/// buyers viewed what they were sent. Granite Manufacturing posted a review
/// and Acme Analytics made a referral, which took both to loyalty.
async fn content_in_deals(
    db: &DatabaseConnection,
    ws: uuid::Uuid,
    now: chrono::DateTime<Utc>,
) -> CoreResult<()> {
    // (account, content, days ago): inside each deal, between its hand-off
    // and its outcome.
    let shared: [(&str, Content, i64); 9] = [
        ("Acme Analytics", ROI_CALCULATOR, 52),
        ("Evergreen Retail", ROI_CALCULATOR, 50),
        ("Granite Manufacturing", ROI_CALCULATOR, 55),
        ("Lumen Security", ROI_CALCULATOR, 48),
        ("Kestrel Media", ROI_CALCULATOR, 10),
        ("Ion Telecom", PRICING_SHEET, 47),
        ("Mistral Foods", PRICING_SHEET, 50),
        ("Nimbus Travel", PRICING_SHEET, 46),
        ("Nimbus Travel", COMPARISON, 44),
    ];
    let contact = |name: &str| {
        let (i, spec) = ACCOUNTS
            .iter()
            .enumerate()
            .find(|(_, a)| a.name == name)
            .expect("a demo account");
        (i, person_email(i, 0, spec.domain))
    };
    let touch = |id: String, kind: &str, name: &str, days_ago: i64| {
        let (i, email) = contact(name);
        let mut raw = RawTouchpoint::new(
            "api",
            &id,
            Channel::Email,
            kind,
            now - Duration::days(days_ago),
        );
        raw.person = Some(NewPerson {
            email: Some(email),
            ..Default::default()
        });
        (raw, i)
    };
    let mut batch = Vec::new();
    for (n, (name, content, days_ago)) in shared.into_iter().enumerate() {
        let (mut sent, i) = touch(format!("demo-shared-{n}"), "asset.shared", name, days_ago);
        sent.title = Some(format!("Sent: {}", content.1));
        sent.owner_team = Some(OwnerTeam::Sales);
        sent.actor = Some(["sam@journeys.example", "alex@journeys.example"][i % 2].into());
        sent.asset = Some(asset(content));
        let (mut viewed, _) = touch(
            format!("demo-viewed-{n}"),
            "asset.viewed",
            name,
            days_ago - 1,
        );
        viewed.title = Some(format!("Viewed: {}", content.1));
        viewed.asset = Some(asset(content));
        for raw in [sent, viewed] {
            batch.push(with_feeling(raw));
        }
    }
    for (n, (name, kind, title, days_ago)) in [
        (
            "Granite Manufacturing",
            "review.posted",
            "Five stars on G2",
            10,
        ),
        (
            "Acme Analytics",
            "referral.made",
            "Referred a peer at Cobalt Health",
            5,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let (mut raw, _) = touch(format!("demo-advocate-{n}"), kind, name, days_ago);
        raw.title = Some(title.into());
        raw.owner_team = Some(OwnerTeam::Relationship);
        batch.push(with_feeling(raw));
    }
    batch.sort_by_key(|t| t.occurred_at);
    record(db, ws, &batch).await
}

fn with_feeling(mut raw: RawTouchpoint) -> RawTouchpoint {
    if let Some((emotion, sentiment)) = feeling(&raw.kind, true) {
        raw.emotion = Some(emotion);
        raw.sentiment = Some(sentiment);
    }
    raw
}
