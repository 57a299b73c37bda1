//! Next steps: what an account should get now, each with the reason it is
//! suggested and a priority. Deterministic: the same records give the same
//! steps in the same order, and every step says what it was read from.
//!
//! Where steps come from, and their priority:
//! - HIGH, someone waits on us: an MQL or SQL with no SALES touchpoint since
//!   it qualified (`AWAITING_SALES`); a detractor's newest NPS answer with no
//!   team touchpoint on the account since (`DETRACTOR_FOLLOW_UP`); an open
//!   support ticket (`OPEN_TICKET`); no touchpoint for longer than the
//!   current stage's target duration (`NO_RECENT_TOUCH`).
//! - MEDIUM: a role the workspace's deals need that nobody holds, while the
//!   account is in a deal (MQL, SQL or OPPORTUNITY) (`MISSING_ROLE`); the
//!   first playbook step not yet done of each stage or phase the account is
//!   in (`PLAYBOOK`).
//! - LOW: a needed role whose holders were none of them in touch in the
//!   last 90 days (`COLD_ROLE`); the later playbook steps.
//!
//! A step about a person lists the channels they may be contacted on (their
//! newest consent on it was given); a channel they revoked is never among
//! them, and the step's text never names a channel.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::vocab::{Channel, DmuRole, Lifecycle, OwnerTeam};
use entity::{account, consent, journey_model, stage, stakeholder, touchpoint};
use sea_orm::{ConnectionTrait, Iterable};
use uuid::Uuid;

use super::reads;
use super::tickets::OpenTicket;
use crate::CoreResult;
use crate::journeys::playbooks::{self, PlaybookStep};
use crate::people::dmu;
use crate::privacy;

/// Why a step is suggested, in the order steps of one priority are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StepKind {
    AwaitingSales,
    DetractorFollowUp,
    OpenTicket,
    NoRecentTouch,
    MissingRole,
    ColdRole,
    Playbook,
}

/// How soon a step should be taken; `High` sorts first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    High,
    Medium,
    Low,
}

/// One thing the account should get now.
#[derive(Debug, Clone, PartialEq)]
pub struct NextStep {
    pub kind: StepKind,
    pub priority: Priority,
    /// What to do.
    pub text: String,
    /// Why, from the records it was read from.
    pub reason: String,
    /// The team that should do it.
    pub owner_team: OwnerTeam,
    /// The model and stage it comes from (playbook steps and silence).
    pub model_id: Option<Uuid>,
    pub stage_id: Option<Uuid>,
    /// The decision-making-unit role it is about.
    pub role: Option<DmuRole>,
    /// The person it is about.
    pub stakeholder_id: Option<Uuid>,
    /// The channels that person may be contacted on, in the vocabulary's
    /// order; empty without a person or without a consent given.
    pub contact_on: Vec<Channel>,
    /// The touchpoint that calls for it (the ticket's opening, the answer).
    pub touchpoint_id: Option<Uuid>,
}

/// Where an account stands in one model: its stage, or a phase it is in.
#[derive(Debug, Clone)]
pub struct Position {
    pub model: journey_model::Model,
    pub stage: stage::Model,
    pub entered_at: DateTime<Utc>,
    pub phase: bool,
}

/// What next steps read about one account.
#[derive(Debug, Clone)]
pub struct Facts {
    pub account: account::Model,
    /// By model, then the sequence before phases, then stage position.
    pub positions: Vec<Position>,
    /// Over the 90 days up to now.
    pub unit: dmu::Unit,
    /// Its newest touchpoint.
    pub last_touch_at: Option<DateTime<Utc>>,
    /// When it last became an MQL (else an SQL).
    pub qualified_at: Option<DateTime<Utc>>,
    /// Its newest SALES-owned touchpoint.
    pub last_sales_touch_at: Option<DateTime<Utc>>,
    pub open_tickets: Vec<OpenTicket>,
    /// Its newest NPS answer.
    pub latest_nps: Option<touchpoint::Model>,
    /// Whether a team-owned touchpoint on the account came after that answer.
    pub nps_followed_up: bool,
    /// Its newest touchpoint of each kind a current playbook step is done by.
    pub done_kinds: HashMap<String, DateTime<Utc>>,
}

/// The people steps may name: who they are and their consents, newest first.
#[derive(Debug, Clone, Default)]
pub struct People {
    pub stakeholders: HashMap<Uuid, stakeholder::Model>,
    pub consents: HashMap<Uuid, Vec<consent::Model>>,
}

impl People {
    /// How a step names `person`; `unknown` when the touchpoint has none.
    fn name(&self, person: Option<Uuid>, unknown: &str) -> String {
        match person.and_then(|p| self.stakeholders.get(&p)) {
            Some(p) if p.erased_at.is_some() => "an erased person".to_owned(),
            Some(p) => p
                .name
                .clone()
                .or_else(|| p.email.clone())
                .unwrap_or_else(|| "an unnamed person".to_owned()),
            None => unknown.to_owned(),
        }
    }

    /// The channels `person` may be contacted on.
    fn contact_on(&self, person: Option<Uuid>) -> Vec<Channel> {
        let Some(p) = person.and_then(|p| self.stakeholders.get(&p)) else {
            return Vec::new();
        };
        let consents = self.consents.get(&p.id).map_or(&[][..], Vec::as_slice);
        Channel::iter()
            .filter(|&c| privacy::can_contact(p, consents, c))
            .collect()
    }
}

/// What guidance knows about one account: the facts it read and the next
/// steps they call for.
#[derive(Debug, Clone)]
pub struct Guidance {
    pub facts: Facts,
    pub next_steps: Vec<NextStep>,
}

/// The guidance for each of `accounts` (ids of the workspace's accounts) at
/// `now`; an unknown id has none.
pub async fn guide(
    db: &impl ConnectionTrait,
    ws: Uuid,
    accounts: &[Uuid],
    now: DateTime<Utc>,
) -> CoreResult<HashMap<Uuid, Guidance>> {
    let (facts, people) = reads::facts(db, ws, accounts, now).await?;
    Ok(facts
        .into_iter()
        .map(|(id, facts)| {
            let next_steps = suggest(&facts, &people, now);
            (id, Guidance { facts, next_steps })
        })
        .collect())
}

/// Lifecycles in which a deal is open, so its buying group matters.
const IN_A_DEAL: [Lifecycle; 3] = [Lifecycle::Mql, Lifecycle::Sql, Lifecycle::Opportunity];

/// The account's next steps, highest priority first.
pub fn suggest(facts: &Facts, people: &People, now: DateTime<Utc>) -> Vec<NextStep> {
    let mut steps = Vec::new();
    awaiting_sales(facts, now, &mut steps);
    detractor(facts, people, &mut steps);
    for ticket in &facts.open_tickets {
        steps.push(open_ticket(ticket, people, now));
    }
    for p in facts.positions.iter().filter(|p| !p.phase) {
        steps.extend(silence(facts, p, now));
    }
    if IN_A_DEAL.contains(&facts.account.lifecycle) {
        buying_group(facts, people, &mut steps);
    }
    for p in &facts.positions {
        playbook(facts, p, &mut steps);
    }
    // Stable: within a priority and kind, the order they were found in.
    steps.sort_by_key(|s| (s.priority, s.kind));
    steps
}

fn step(kind: StepKind, priority: Priority, owner_team: OwnerTeam) -> NextStep {
    NextStep {
        kind,
        priority,
        text: String::new(),
        reason: String::new(),
        owner_team,
        model_id: None,
        stage_id: None,
        role: None,
        stakeholder_id: None,
        contact_on: Vec::new(),
        touchpoint_id: None,
    }
}

fn awaiting_sales(facts: &Facts, now: DateTime<Utc>, steps: &mut Vec<NextStep>) {
    let lifecycle = facts.account.lifecycle;
    let Some(qualified) = facts.qualified_at else {
        return;
    };
    let touched = facts.last_sales_touch_at.is_some_and(|t| t >= qualified);
    if !matches!(lifecycle, Lifecycle::Mql | Lifecycle::Sql) || touched {
        return;
    }
    steps.push(NextStep {
        text: "Make the first sales contact".to_owned(),
        reason: format!(
            "qualified on {} ({} ago) and now {}, with no SALES touchpoint since",
            date(qualified),
            span(now - qualified),
            lifecycle_name(lifecycle),
        ),
        ..step(StepKind::AwaitingSales, Priority::High, OwnerTeam::Sales)
    });
}

fn detractor(facts: &Facts, people: &People, steps: &mut Vec<NextStep>) {
    let Some(answer) = &facts.latest_nps else {
        return;
    };
    let Some(score) = answer.score.filter(|s| *s <= 6.0) else {
        return;
    };
    if facts.nps_followed_up {
        return;
    }
    let who = people.name(answer.stakeholder_id, "a respondent");
    steps.push(NextStep {
        text: format!("Follow up {who}'s NPS answer of {score}"),
        reason: format!(
            "{who} answered {score} on {} (a detractor: 0 to 6), and no team touchpoint on the account came after it",
            date(answer.occurred_at)
        ),
        stakeholder_id: answer.stakeholder_id,
        contact_on: people.contact_on(answer.stakeholder_id),
        touchpoint_id: Some(answer.id),
        ..step(
            StepKind::DetractorFollowUp,
            Priority::High,
            OwnerTeam::Relationship,
        )
    });
}

fn open_ticket(ticket: &OpenTicket, people: &People, now: DateTime<Utc>) -> NextStep {
    let opened = &ticket.opened;
    let text = match &opened.title {
        Some(subject) => format!("Resolve support ticket {}: {subject}", ticket.ticket_id),
        None => format!("Resolve support ticket {}", ticket.ticket_id),
    };
    let opened_at = opened.occurred_at;
    let since = match ticket.reopened_at {
        Some(at) => format!(
            "opened on {}, reopened on {} ({} ago)",
            date(opened_at),
            date(at),
            span(now - at)
        ),
        None => format!(
            "opened on {} ({} ago)",
            date(opened_at),
            span(now - opened_at)
        ),
    };
    NextStep {
        text,
        reason: format!(
            "{since} by {} and not solved",
            people.name(opened.stakeholder_id, "the requester")
        ),
        stakeholder_id: opened.stakeholder_id,
        contact_on: people.contact_on(opened.stakeholder_id),
        touchpoint_id: Some(opened.id),
        ..step(StepKind::OpenTicket, Priority::High, OwnerTeam::Service)
    }
}

/// Nothing for longer than the stage's target since the last touchpoint, or
/// since the account entered the stage when that came later.
fn silence(facts: &Facts, p: &Position, now: DateTime<Utc>) -> Option<NextStep> {
    let target = chrono::Duration::seconds(p.stage.target_duration_secs?);
    let quiet_since = facts
        .last_touch_at
        .map_or(p.entered_at, |t| t.max(p.entered_at));
    let quiet = now - quiet_since;
    if quiet <= target {
        return None;
    }
    let since = match facts.last_touch_at {
        Some(t) if t >= p.entered_at => format!("no touchpoint since {}", date(t)),
        _ => format!(
            "no touchpoint since it entered the stage on {}",
            date(p.entered_at)
        ),
    };
    Some(NextStep {
        text: format!("Get back in touch: nothing for {}", span(quiet)),
        reason: format!(
            "{since} ({} ago), longer than the target of `{}` in `{}`: {}",
            span(quiet),
            p.stage.name,
            p.model.name,
            span(target)
        ),
        model_id: Some(p.model.id),
        stage_id: Some(p.stage.id),
        ..step(StepKind::NoRecentTouch, Priority::High, p.stage.owner_team)
    })
}

fn buying_group(facts: &Facts, people: &People, steps: &mut Vec<NextStep>) {
    let unit = &facts.unit;
    for role in unit.missing() {
        steps.push(NextStep {
            text: format!("Find the account's {}", role_name(role)),
            reason: format!(
                "the workspace's deals need {}, and nobody at {} holds the role",
                with_article(role_name(role)),
                facts.account.name
            ),
            role: Some(role),
            ..step(StepKind::MissingRole, Priority::Medium, OwnerTeam::Sales)
        });
    }
    for role in unit.cold() {
        // The holder in touch most recently, the likeliest to answer.
        let holder = unit
            .members
            .iter()
            .filter(|m| m.role == role && m.stakeholder.erased_at.is_none())
            .max_by_key(|m| (m.last_touch_at, std::cmp::Reverse(m.stakeholder.id)));
        let Some(holder) = holder else { continue };
        let who = people.name(Some(holder.stakeholder.id), "a role holder");
        let last = match holder.last_touch_at {
            Some(t) => format!("{who} was last in touch on {}", date(t)),
            None => format!("{who} has never been in touch"),
        };
        steps.push(NextStep {
            text: format!("Re-engage {who}, the account's {}", role_name(role)),
            reason: format!(
                "nobody in the {} role was in touch from {} to {}; {last}",
                role_name(role),
                date(unit.window.from()),
                date(unit.window.to()),
            ),
            role: Some(role),
            stakeholder_id: Some(holder.stakeholder.id),
            contact_on: people.contact_on(Some(holder.stakeholder.id)),
            ..step(StepKind::ColdRole, Priority::Low, OwnerTeam::Sales)
        });
    }
}

fn playbook(facts: &Facts, p: &Position, steps: &mut Vec<NextStep>) {
    let playbook = playbooks::of(&p.stage);
    let done = |s: &PlaybookStep| {
        s.done_when.iter().any(|kind| {
            facts
                .done_kinds
                .get(kind)
                .is_some_and(|at| *at >= p.entered_at)
        })
    };
    let mut first = true;
    for (i, s) in playbook.iter().enumerate() {
        if done(s) {
            continue;
        }
        let mut reason = format!(
            "step {} of {} of the `{}` playbook in `{}`",
            i + 1,
            playbook.len(),
            p.stage.name,
            p.model.name
        );
        if !s.done_when.is_empty() {
            reason.push_str(&format!(
                "; no {} touchpoint since the account entered the stage on {}",
                s.done_when.join(" or "),
                date(p.entered_at)
            ));
        }
        let priority = if first {
            Priority::Medium
        } else {
            Priority::Low
        };
        first = false;
        steps.push(NextStep {
            text: s.text.clone(),
            reason,
            model_id: Some(p.model.id),
            stage_id: Some(p.stage.id),
            ..step(StepKind::Playbook, priority, s.owner_team)
        });
    }
}

fn date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// A duration in whole days, else hours, else minutes.
fn span(d: chrono::Duration) -> String {
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if d.num_days() >= 1 {
        plural(d.num_days(), "day")
    } else if d.num_hours() >= 1 {
        plural(d.num_hours(), "hour")
    } else {
        plural(d.num_minutes(), "minute")
    }
}

fn role_name(role: DmuRole) -> &'static str {
    match role {
        DmuRole::DecisionMaker => "decision maker",
        DmuRole::Influencer => "influencer",
        DmuRole::Buyer => "buyer",
        DmuRole::User => "user",
        DmuRole::Gatekeeper => "gatekeeper",
        DmuRole::Champion => "champion",
        DmuRole::Initiator => "initiator",
    }
}

/// "a buyer", "an influencer".
fn with_article(name: &str) -> String {
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

fn lifecycle_name(l: Lifecycle) -> &'static str {
    match l {
        Lifecycle::Mql => "an MQL",
        Lifecycle::Sql => "an SQL",
        _ => "past qualification",
    }
}

#[cfg(test)]
mod tests {
    use entity::vocab::JourneyTemplate;

    use super::*;
    use crate::analytics::Window;
    use crate::guidance::tests::touchpoint_row;
    use crate::guidance::tickets::open_tickets;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-31T12:00:00Z")
            .unwrap()
            .to_utc()
    }

    fn days_ago(days: i64) -> DateTime<Utc> {
        now() - chrono::Duration::days(days)
    }

    fn account(lifecycle: Lifecycle) -> account::Model {
        account::Model {
            id: Uuid::from_u128(1),
            workspace_id: Uuid::nil(),
            name: "Acme".into(),
            industry: None,
            employees: None,
            lifecycle,
            owner: None,
            score: 0.0,
            created_at: days_ago(100),
            updated_at: days_ago(100),
        }
    }

    fn model() -> journey_model::Model {
        journey_model::Model {
            id: Uuid::from_u128(10),
            workspace_id: Uuid::nil(),
            name: "B2B".into(),
            template: JourneyTemplate::Custom,
            circular: false,
            loop_to_stage_key: None,
            is_default: true,
            created_at: days_ago(100),
            backfill_pending: false,
            backfill_after: None,
            backfill_processed: 0,
            backfill_total: 0,
            backfill_lease_until: None,
        }
    }

    fn stage(name: &str, target_days: Option<i64>, playbook: &[(&str, &[&str])]) -> stage::Model {
        let steps: Vec<PlaybookStep> = playbook
            .iter()
            .map(|(text, done)| PlaybookStep {
                text: (*text).into(),
                owner_team: OwnerTeam::Sales,
                done_when: done.iter().map(|k| (*k).to_owned()).collect(),
            })
            .collect();
        stage::Model {
            id: Uuid::from_u128(20),
            workspace_id: Uuid::nil(),
            model_id: Uuid::from_u128(10),
            parent_stage_id: None,
            key: name.to_lowercase(),
            name: name.into(),
            position: 0,
            owner_team: OwnerTeam::Sales,
            target_duration_secs: target_days.map(|d| d * 86_400),
            continuous: false,
            entry_kinds: serde_json::json!([]),
            entry_channels: serde_json::json!([]),
            playbook: playbooks::to_json(&steps),
            archived_at: None,
        }
    }

    fn facts(lifecycle: Lifecycle) -> Facts {
        Facts {
            account: account(lifecycle),
            positions: Vec::new(),
            unit: dmu::Unit {
                window: Window::new(days_ago(90), now()).unwrap(),
                needed: Vec::new(),
                members: Vec::new(),
            },
            last_touch_at: None,
            qualified_at: None,
            last_sales_touch_at: None,
            open_tickets: Vec::new(),
            latest_nps: None,
            nps_followed_up: false,
            done_kinds: HashMap::new(),
        }
    }

    fn person(n: u128, name: &str) -> stakeholder::Model {
        stakeholder::Model {
            id: Uuid::from_u128(n),
            workspace_id: Uuid::nil(),
            name: Some(name.into()),
            email: None,
            title: None,
            lifecycle: Lifecycle::Lead,
            score: 0.0,
            created_at: days_ago(100),
            updated_at: days_ago(100),
            erased_at: None,
        }
    }

    fn consent(person: u128, channel: Channel, granted: bool, day: i64) -> consent::Model {
        consent::Model {
            id: Uuid::now_v7(),
            workspace_id: Uuid::nil(),
            stakeholder_id: Uuid::from_u128(person),
            channel,
            granted,
            source: "form".into(),
            recorded_at: days_ago(day),
        }
    }

    #[test]
    fn roles_get_their_article() {
        assert_eq!(
            with_article(role_name(DmuRole::Influencer)),
            "an influencer"
        );
        assert_eq!(with_article(role_name(DmuRole::Buyer)), "a buyer");
    }

    fn kinds(steps: &[NextStep]) -> Vec<(StepKind, Priority)> {
        steps.iter().map(|s| (s.kind, s.priority)).collect()
    }

    #[test]
    fn an_mql_without_a_sales_touch_since_it_qualified_waits_for_sales() {
        let mut f = facts(Lifecycle::Mql);
        f.qualified_at = Some(days_ago(3));
        f.last_sales_touch_at = Some(days_ago(10));
        let steps = suggest(&f, &People::default(), now());
        assert_eq!(kinds(&steps), [(StepKind::AwaitingSales, Priority::High)]);
        assert_eq!(steps[0].text, "Make the first sales contact");
        assert_eq!(
            steps[0].reason,
            "qualified on 2026-03-28 (3 days ago) and now an MQL, with no SALES touchpoint since"
        );
        // A sales touch since, or a customer, waits for nobody.
        f.last_sales_touch_at = Some(days_ago(1));
        assert!(suggest(&f, &People::default(), now()).is_empty());
        let mut customer = facts(Lifecycle::Customer);
        customer.qualified_at = Some(days_ago(3));
        assert!(suggest(&customer, &People::default(), now()).is_empty());
    }

    #[test]
    fn silence_counts_from_the_last_touch_or_the_stage_entry_whichever_is_later() {
        let mut f = facts(Lifecycle::Opportunity);
        f.positions.push(Position {
            model: model(),
            stage: stage("Evaluation", Some(14), &[]),
            entered_at: days_ago(30),
            phase: false,
        });
        // Quiet for 20 days: past the 14-day target.
        f.last_touch_at = Some(days_ago(20));
        let steps = suggest(&f, &People::default(), now());
        assert_eq!(kinds(&steps), [(StepKind::NoRecentTouch, Priority::High)]);
        assert_eq!(steps[0].text, "Get back in touch: nothing for 20 days");
        assert_eq!(
            steps[0].reason,
            "no touchpoint since 2026-03-11 (20 days ago), longer than the target of `Evaluation` in `B2B`: 14 days"
        );
        assert_eq!(steps[0].owner_team, OwnerTeam::Sales);
        // Entered 10 days ago after a touch 20 days ago: 10 days is within.
        f.positions[0].entered_at = days_ago(10);
        assert!(suggest(&f, &People::default(), now()).is_empty());
    }

    #[test]
    fn playbook_steps_done_since_entering_the_stage_are_left_out() {
        let mut f = facts(Lifecycle::Customer);
        f.positions.push(Position {
            model: model(),
            stage: stage(
                "Onboarding",
                None,
                &[
                    ("Hold the kickoff", &["meeting.held"]),
                    ("Send the ROI calculator", &["asset.shared"]),
                    ("Ask for a review", &[]),
                ],
            ),
            entered_at: days_ago(5),
            phase: false,
        });
        // The kickoff happened after entry; the calculator was shared before.
        f.done_kinds.insert("meeting.held".into(), days_ago(2));
        f.done_kinds.insert("asset.shared".into(), days_ago(6));
        let steps = suggest(&f, &People::default(), now());
        assert_eq!(
            kinds(&steps),
            [
                (StepKind::Playbook, Priority::Medium),
                (StepKind::Playbook, Priority::Low)
            ]
        );
        assert_eq!(steps[0].text, "Send the ROI calculator");
        assert_eq!(
            steps[0].reason,
            "step 2 of 3 of the `Onboarding` playbook in `B2B`; no asset.shared touchpoint since the account entered the stage on 2026-03-26"
        );
        assert_eq!(steps[1].text, "Ask for a review");
        assert_eq!(
            steps[1].reason,
            "step 3 of 3 of the `Onboarding` playbook in `B2B`"
        );
    }

    #[test]
    fn a_deal_misses_unheld_roles_and_re_engages_cold_ones_on_consented_channels() {
        let mut f = facts(Lifecycle::Sql);
        f.unit.needed = vec![DmuRole::DecisionMaker, DmuRole::Buyer];
        let (ann, bo) = (person(2, "Ann"), person(3, "Bo"));
        f.unit.members = vec![
            dmu::Member {
                stakeholder: ann.clone(),
                role: DmuRole::Buyer,
                last_touch_at: Some(days_ago(120)),
                engaged: false,
            },
            dmu::Member {
                stakeholder: bo.clone(),
                role: DmuRole::Buyer,
                last_touch_at: Some(days_ago(200)),
                engaged: false,
            },
        ];
        let people = People {
            stakeholders: [(ann.id, ann), (bo.id, bo)].into_iter().collect(),
            consents: [(
                2,
                // Newest first: email taken back, phone given.
                vec![
                    consent(2, Channel::Email, false, 1),
                    consent(2, Channel::Phone, true, 2),
                    consent(2, Channel::Email, true, 3),
                ],
            )]
            .into_iter()
            .map(|(p, c)| (Uuid::from_u128(p), c))
            .collect(),
        };
        let steps = suggest(&f, &people, now());
        assert_eq!(
            kinds(&steps),
            [
                (StepKind::MissingRole, Priority::Medium),
                (StepKind::ColdRole, Priority::Low)
            ]
        );
        assert_eq!(steps[0].text, "Find the account's decision maker");
        assert_eq!(
            steps[0].reason,
            "the workspace's deals need a decision maker, and nobody at Acme holds the role"
        );
        // Ann was in touch more recently than Bo.
        assert_eq!(steps[1].text, "Re-engage Ann, the account's buyer");
        assert_eq!(
            steps[1].reason,
            "nobody in the buyer role was in touch from 2025-12-31 to 2026-03-31; Ann was last in touch on 2025-12-01"
        );
        assert_eq!(steps[1].contact_on, [Channel::Phone]);
        // Out of a deal, the buying group is not chased.
        f.account.lifecycle = Lifecycle::Customer;
        assert!(suggest(&f, &people, now()).is_empty());
    }

    #[test]
    fn a_detractor_without_follow_up_and_open_tickets_come_first() {
        let mut f = facts(Lifecycle::Customer);
        let mut answer = touchpoint_row("nps.responded", days_ago(4));
        answer.score = Some(3.0);
        answer.stakeholder_id = Some(Uuid::from_u128(2));
        f.latest_nps = Some(answer.clone());
        let mut opened = touchpoint_row("ticket.opened", days_ago(2));
        opened.external_id = "ticket:7:opened".into();
        opened.title = Some("Export fails".into());
        f.open_tickets = open_tickets(&[opened]);
        f.positions.push(Position {
            model: model(),
            stage: stage("Adoption", None, &[("Check usage", &[])]),
            entered_at: days_ago(40),
            phase: false,
        });
        let ann = person(2, "Ann");
        let people = People {
            stakeholders: [(ann.id, ann)].into_iter().collect(),
            consents: HashMap::new(),
        };
        let steps = suggest(&f, &people, now());
        assert_eq!(
            kinds(&steps),
            [
                (StepKind::DetractorFollowUp, Priority::High),
                (StepKind::OpenTicket, Priority::High),
                (StepKind::Playbook, Priority::Medium),
            ]
        );
        assert_eq!(steps[0].text, "Follow up Ann's NPS answer of 3");
        assert_eq!(
            steps[0].reason,
            "Ann answered 3 on 2026-03-27 (a detractor: 0 to 6), and no team touchpoint on the account came after it"
        );
        assert_eq!(steps[0].touchpoint_id, Some(answer.id));
        assert!(steps[0].contact_on.is_empty(), "no consent, no channel");
        assert_eq!(steps[1].text, "Resolve support ticket 7: Export fails");
        assert_eq!(
            steps[1].reason,
            "opened on 2026-03-29 (2 days ago) by the requester and not solved"
        );
        // Followed up, or a passive, needs nothing.
        f.nps_followed_up = true;
        assert_eq!(suggest(&f, &people, now()).len(), 2);
    }
}
