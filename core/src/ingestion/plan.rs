//! A batch resolved in memory against what the database holds, item by item
//! in the order given, so that a later item sees the people, accounts and
//! touchpoints an earlier one made: nothing is written here. An item either
//! passes every check and changes the plan, or fails and changes nothing;
//! every check that can fail for one item is made before it changes the plan,
//! which is what lets the writes go without a savepoint per item.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use entity::vocab::{IdentityKind, Lifecycle};
use entity::workspace::ErasureKey;
use entity::{
    account, account_ref, identity, lifecycle_change, membership, scoring_rule, stakeholder,
    touchpoint,
};
use sea_orm::Set;
use uuid::Uuid;

use super::known::{Key, Known, Scope, hint_name, hint_ref, name_key};
use super::record::Recorded;
use super::{NewPerson, NewTouchpoint, RecordOutcome, bounded};
use crate::journeys::progression::Replay;
use crate::lifecycle::{self, Change, Subject};
use crate::people::accounts::check_name;
use crate::people::identities::email_domain;
use crate::{CoreError, CoreResult, privacy, scoring, time};

/// The batch's writes, each kind of row in one list.
#[derive(Default)]
pub(super) struct Plan {
    /// Each item's outcome, in the order given.
    pub recorded: Vec<Recorded>,
    pub new_accounts: Vec<account::ActiveModel>,
    /// People the batch creates, then people it changes, as they end up.
    pub new_people: Vec<stakeholder::Model>,
    pub changed_people: Vec<stakeholder::Model>,
    pub identities: Vec<identity::ActiveModel>,
    /// Lifecycle changes in the order they happened.
    pub lifecycle: Vec<lifecycle_change::ActiveModel>,
    pub refs: Vec<account_ref::ActiveModel>,
    pub memberships: Vec<membership::ActiveModel>,
    /// People known before the batch who joined their first account in it:
    /// their account-less touchpoints move there.
    pub adoptions: Vec<(Uuid, Uuid)>,
    /// Touchpoints to insert, and stored ones to overwrite, as they end up.
    pub inserts: Vec<touchpoint::Model>,
    pub updates: Vec<touchpoint::Model>,
    /// Paths to rebuild in every model: where a stored touchpoint changed.
    pub replays: Vec<Replay>,
    pub touched: scoring::Touched,
}

/// Who an item is with, once resolved, and what resolving them changes.
struct PersonStep {
    /// The person as they end up.
    person: stakeholder::Model,
    created: bool,
    changed: bool,
    /// Identities nobody holds yet, to give them.
    attach: Vec<(IdentityKind, String)>,
    /// Lifecycle changes resolving them makes.
    changes: Vec<lifecycle_change::ActiveModel>,
}

/// The account an item belongs to, once resolved.
#[derive(Default)]
struct AccountStep {
    account: Option<Uuid>,
    /// An account to create under the organisation's name.
    created: Option<account::ActiveModel>,
    /// A connector's organisation id to map to the account.
    map: Option<(Uuid, String)>,
}

/// The plan being built, over what the database holds.
struct Planner<'a> {
    ws: Uuid,
    key: &'a ErasureKey,
    rules: &'a [scoring_rule::Model],
    now: DateTime<Utc>,
    known: Known,
    plan: Plan,
    /// Touchpoints inserted by this batch (by key), and stored ones it
    /// updates, with their place in `inserts`/`updates` kept in `known`.
    fresh: Vec<Key>,
    rewritten: BTreeSet<Key>,
    created_people: Vec<Uuid>,
    changed_people: BTreeSet<Uuid>,
    /// People created by this batch, who have nothing stored to adopt.
    new_people: HashSet<Uuid>,
}

/// Resolves `items` (their check's results, in order) against `known`.
pub(super) fn build(
    ws: Uuid,
    key: &ErasureKey,
    rules: &[scoring_rule::Model],
    known: Known,
    items: Vec<CoreResult<NewTouchpoint>>,
) -> Plan {
    let mut planner = Planner {
        ws,
        key,
        rules,
        now: time::now(),
        known,
        plan: Plan::default(),
        fresh: Vec::new(),
        rewritten: BTreeSet::new(),
        created_people: Vec::new(),
        changed_people: BTreeSet::new(),
        new_people: HashSet::new(),
    };
    for item in items {
        let recorded = match item.and_then(|item| planner.item(item)) {
            Ok((outcome, model)) => Recorded {
                outcome,
                result: Ok(model),
            },
            Err(e) => Recorded {
                outcome: RecordOutcome::Failed,
                result: Err(e),
            },
        };
        planner.plan.recorded.push(recorded);
    }
    planner.finish()
}

impl Planner<'_> {
    /// Plans one checked item; an error leaves the plan as it was.
    fn item(
        &mut self,
        item: NewTouchpoint,
    ) -> CoreResult<(RecordOutcome, Option<touchpoint::Model>)> {
        let scope = Scope::of(item.connector, &item.source);
        let erased =
            privacy::erased_external_id(self.key, self.ws, &item.source, &item.external_id);
        // An erased person stays erased: a re-delivery (a connector's next
        // pull, a webhook, a client's retry) neither refills their touchpoint
        // nor finds them again by identity, nor tells the caller who they were.
        if self
            .known
            .touchpoints
            .contains_key(&(scope.clone(), erased))
        {
            return Ok((RecordOutcome::Unchanged, None));
        }
        let person = match (item.stakeholder, &item.person) {
            (Some(id), _) => Some(self.named_person(id)?),
            (None, Some((identities, person))) => {
                Some(self.resolve_person(identities, person, item.occurred_at)?)
            }
            (None, None) => None,
        };
        let account = match item.account {
            Some(id) if self.known.accounts.contains(&id) => AccountStep {
                account: Some(id),
                ..AccountStep::default()
            },
            Some(_) => return Err(CoreError::not_found("account")),
            None => self.resolve_account(&item, person.as_ref().map(|p| &p.person))?,
        };
        // Every check passed: from here on the item changes the plan.
        let person = person.map(|step| self.apply_person(step));
        let account = self.apply_account(account);
        if let (Some(account), Some(person)) = (account, person) {
            self.join(account, person);
        }
        Ok(self.record_touchpoint((scope, item.external_id.clone()), item, account, person))
    }

    fn named_person(&self, id: Uuid) -> CoreResult<PersonStep> {
        let person = self
            .known
            .people
            .get(&id)
            .cloned()
            .ok_or(CoreError::not_found("stakeholder"))?;
        Ok(PersonStep {
            person,
            created: false,
            changed: false,
            attach: Vec::new(),
            changes: Vec::new(),
        })
    }

    /// Finds the person a touchpoint is with by the first identity someone
    /// holds, or makes a new one; gives them the identities nobody holds. An
    /// identity already held by someone else is left there: deciding that
    /// two records are one person is a merge, not ingestion's call.
    fn resolve_person(
        &self,
        identities: &[(IdentityKind, String)],
        details: &NewPerson,
        seen_at: DateTime<Utc>,
    ) -> CoreResult<PersonStep> {
        let owners: Vec<Option<Uuid>> = identities
            .iter()
            .map(|(kind, value)| self.known.owners.get(&(*kind, value.clone())).copied())
            .collect();
        let email = identities
            .iter()
            .find(|(k, _)| *k == IdentityKind::Email)
            .map(|(_, v)| v.clone());
        let mut attach: Vec<(IdentityKind, String)> = identities
            .iter()
            .zip(&owners)
            .filter(|(_, owner)| owner.is_none())
            .map(|(identity, _)| identity.clone())
            .collect();
        attach.dedup();
        let found = owners.iter().flatten().next().copied();
        let Some(found) = found else {
            let person = stakeholder::Model {
                id: entity::new_id(),
                workspace_id: self.ws,
                name: bounded("person.name", details.name.clone(), 200)?,
                email: email.clone(),
                title: bounded("person.title", details.title.clone(), 200)?,
                lifecycle: if email.is_some() {
                    Lifecycle::Lead
                } else {
                    Lifecycle::Visitor
                },
                score: 0.0,
                created_at: self.now,
                updated_at: self.now,
                erased_at: None,
            };
            let change = Change {
                from: None,
                to: person.lifecycle,
                at: seen_at,
                cause: if email.is_some() {
                    "left their details"
                } else {
                    "first seen"
                },
                actor: None,
                touchpoint: None,
            };
            let changes = lifecycle::row(self.ws, Subject::Stakeholder(person.id), &change);
            return Ok(PersonStep {
                person,
                created: true,
                changed: false,
                attach,
                changes: changes.into_iter().collect(),
            });
        };
        let mut person = self
            .known
            .people
            .get(&found)
            .cloned()
            .ok_or(CoreError::not_found("stakeholder"))?;
        let mut changed = false;
        // A known person's missing name and job title come from what a
        // touchpoint says of them (a webinar registration, say); never
        // overwritten.
        if person.name.is_none()
            && let Some(name) = bounded("person.name", details.name.clone(), 200)?
        {
            person.name = Some(name);
            changed = true;
        }
        if person.title.is_none()
            && let Some(title) = bounded("person.title", details.title.clone(), 200)?
        {
            person.title = Some(title);
            changed = true;
        }
        let mut changes = Vec::new();
        if let (None, Some(email)) = (&person.email, email) {
            // An anonymous visitor left their details: a lead from now on.
            person.email = Some(email);
            changed = true;
            if person.lifecycle == Lifecycle::Visitor {
                person.lifecycle = Lifecycle::Lead;
                let change = Change {
                    from: Some(Lifecycle::Visitor),
                    to: Lifecycle::Lead,
                    at: seen_at,
                    cause: "left their details",
                    actor: None,
                    touchpoint: None,
                };
                changes.extend(lifecycle::row(
                    self.ws,
                    Subject::Stakeholder(person.id),
                    &change,
                ));
            }
        }
        if changed {
            person.updated_at = self.now;
        }
        Ok(PersonStep {
            person,
            created: false,
            changed,
            attach,
            changes,
        })
    }

    /// The account a touchpoint belongs to when the caller named none: the
    /// one the connector's organisation id maps to; else the one owning the
    /// person's email domain; else the person's primary account; else the
    /// account with the organisation's name, made when there is none. An
    /// organisation id seen for the first time is mapped to the account
    /// found, so later touchpoints from the same organisation land there too.
    fn resolve_account(
        &self,
        item: &NewTouchpoint,
        person: Option<&stakeholder::Model>,
    ) -> CoreResult<AccountStep> {
        let item_ref = hint_ref(item);
        if let Some(mapped) = item_ref.as_ref().and_then(|r| self.known.refs.get(r)) {
            return Ok(AccountStep {
                account: Some(*mapped),
                ..AccountStep::default()
            });
        }
        let mut step = AccountStep::default();
        if let Some(person) = person {
            step.account = self.inferred_account(person);
        }
        if let (None, Some(name)) = (step.account, hint_name(item)) {
            match self.known.named.get(&name_key(name)) {
                Some(id) => step.account = Some(*id),
                None => {
                    let account = self.named_account(name)?;
                    step.account = Some(*account.id.as_ref());
                    step.created = Some(account);
                }
            }
        }
        if step.account.is_some() {
            step.map = item_ref;
        }
        Ok(step)
    }

    /// The account owning the person's email domain, else their primary
    /// account (else their oldest).
    fn inferred_account(&self, person: &stakeholder::Model) -> Option<Uuid> {
        if let Some(domain) = person.email.as_deref().and_then(email_domain)
            && let Some(owner) = self.known.domains.get(domain)
        {
            return Some(*owner);
        }
        let memberships = self.known.memberships.get(&person.id)?;
        memberships
            .iter()
            .find(|m| m.primary)
            .or(memberships.first())
            .map(|m| m.account_id)
    }

    /// A new account called `name`, a visitor, as a connector's
    /// organisation becomes one.
    fn named_account(&self, name: &str) -> CoreResult<account::ActiveModel> {
        Ok(account::ActiveModel {
            id: Set(entity::new_id()),
            workspace_id: Set(self.ws),
            name: Set(check_name(name)?),
            industry: Set(None),
            employees: Set(None),
            lifecycle: Set(Lifecycle::Visitor),
            owner: Set(None),
            score: Set(0.0),
            created_at: Set(self.now),
            updated_at: Set(self.now),
        })
    }

    fn apply_person(&mut self, step: PersonStep) -> Uuid {
        let id = step.person.id;
        for (kind, value) in step.attach {
            self.known.owners.insert((kind, value.clone()), id);
            self.plan.identities.push(identity::ActiveModel {
                id: Set(entity::new_id()),
                workspace_id: Set(self.ws),
                stakeholder_id: Set(id),
                kind: Set(kind),
                value: Set(value),
                created_at: Set(self.now),
            });
        }
        self.plan.lifecycle.extend(step.changes);
        if step.created {
            self.created_people.push(id);
            self.new_people.insert(id);
        } else if step.changed && !self.new_people.contains(&id) {
            self.changed_people.insert(id);
        }
        self.known.people.insert(id, step.person);
        id
    }

    fn apply_account(&mut self, step: AccountStep) -> Option<Uuid> {
        let account = step.account?;
        if let Some(created) = step.created {
            let name = created.name.as_ref().clone();
            let change = Change {
                from: None,
                to: Lifecycle::Visitor,
                at: self.now,
                cause: "created",
                actor: None,
                touchpoint: None,
            };
            self.plan
                .lifecycle
                .extend(lifecycle::row(self.ws, Subject::Account(account), &change));
            self.known.named.insert(name_key(&name), account);
            self.known.accounts.insert(account);
            self.plan.new_accounts.push(created);
        }
        if let Some((connector, external_id)) = step.map {
            self.known
                .refs
                .insert((connector, external_id.clone()), account);
            self.plan.refs.push(account_ref::ActiveModel {
                workspace_id: Set(self.ws),
                connector_id: Set(connector),
                external_id: Set(external_id),
                account_id: Set(account),
            });
        }
        Some(account)
    }

    /// Joins the person to the account unless they already belong: the
    /// membership is primary when they have no primary account. A person
    /// joining their first account brings their account-less touchpoints
    /// along: the account's journey then starts where theirs did.
    fn join(&mut self, account: Uuid, person: Uuid) {
        let memberships = self.known.memberships.entry(person).or_default();
        if memberships.iter().any(|m| m.account_id == account) {
            return;
        }
        let first = memberships.is_empty();
        let membership = membership::Model {
            id: entity::new_id(),
            workspace_id: self.ws,
            account_id: account,
            stakeholder_id: person,
            role: None,
            primary: !memberships.iter().any(|m| m.primary),
            created_at: self.now,
        };
        memberships.push(membership.clone());
        self.plan.memberships.push(membership.into());
        self.plan.touched.accounts.entry(account).or_default();
        if !first {
            return;
        }
        if !self.new_people.contains(&person) {
            self.plan.adoptions.push((person, account));
            self.plan.touched.rewrite(person);
        }
        // Those this batch holds move in memory; stored ones when written.
        for key in self.fresh.iter().chain(&self.rewritten) {
            if let Some(t) = self.known.touchpoints.get_mut(key)
                && t.stakeholder_id == Some(person)
                && t.account_id.is_none()
            {
                t.account_id = Some(account);
            }
        }
    }

    /// Inserts the touchpoint, or updates the one recorded under its key
    /// when its content changed.
    fn record_touchpoint(
        &mut self,
        key: Key,
        item: NewTouchpoint,
        account: Option<Uuid>,
        stakeholder: Option<Uuid>,
    ) -> (RecordOutcome, Option<touchpoint::Model>) {
        let (asset_key, asset_title, asset_url) = item
            .asset
            .map_or((None, None, None), |a| (Some(a.key), a.title, a.url));
        let Some(old) = self.known.touchpoints.get(&key).cloned() else {
            let model = touchpoint::Model {
                id: entity::new_id(),
                workspace_id: self.ws,
                account_id: account,
                stakeholder_id: stakeholder,
                source: item.source,
                connector_id: item.connector,
                external_id: item.external_id,
                channel: item.channel,
                kind: item.kind,
                occurred_at: item.occurred_at,
                title: item.title,
                body: item.body,
                url: item.url,
                owner_team: item.owner_team,
                actor: item.actor,
                emotion: item.emotion,
                sentiment: item.sentiment,
                score: item.score,
                properties: item.properties,
                asset_key,
                asset_title,
                asset_url,
                created_at: self.now,
                updated_at: self.now,
            };
            self.known.touchpoints.insert(key.clone(), model.clone());
            self.fresh.push(key);
            return (RecordOutcome::Created, Some(model));
        };
        let properties = item
            .properties_update
            .apply(old.properties.as_ref(), item.properties);
        let new = touchpoint::Model {
            account_id: account.or(old.account_id),
            stakeholder_id: stakeholder.or(old.stakeholder_id),
            channel: item.channel,
            kind: item.kind,
            occurred_at: item.occurred_at,
            title: item.title,
            body: item.body,
            url: item.url,
            owner_team: item.owner_team,
            actor: item.actor,
            emotion: item.emotion,
            sentiment: item.sentiment,
            score: item.score,
            properties,
            asset_key,
            asset_title,
            asset_url,
            ..old.clone()
        };
        if new == old {
            return (RecordOutcome::Unchanged, Some(old));
        }
        let new = touchpoint::Model {
            updated_at: self.now,
            ..new
        };
        if !self.fresh.contains(&key) {
            // Its time, kind or account may have changed: rebuild the paths
            // it was on and is on from the earlier of its times.
            let since = old.occurred_at.min(new.occurred_at);
            for account in [old.account_id, new.account_id].into_iter().flatten() {
                self.plan.replays.push(Replay::since(account, since));
            }
            self.rewritten.insert(key.clone());
        }
        if scoring::scores(self.rules, &old.kind, old.channel) {
            // What it gave its old person and account goes with it.
            if let Some(person) = old.stakeholder_id {
                self.plan.touched.rewrite(person);
            }
            if let Some(account) = old.account_id {
                self.plan.touched.accounts.entry(account).or_default();
            }
        }
        self.known.touchpoints.insert(key, new.clone());
        (RecordOutcome::Updated, Some(new))
    }

    /// The plan with the rows as they end up.
    fn finish(mut self) -> Plan {
        let take = |keys: &[Key], known: &Known| -> Vec<touchpoint::Model> {
            keys.iter()
                .filter_map(|k| known.touchpoints.get(k).cloned())
                .collect()
        };
        self.plan.inserts = take(&self.fresh, &self.known);
        let rewritten: Vec<Key> = self.rewritten.iter().cloned().collect();
        self.plan.updates = take(&rewritten, &self.known);
        for t in &self.plan.inserts {
            if scoring::scores(self.rules, &t.kind, t.channel) {
                self.plan.touched.append(t);
            } else {
                self.plan.touched.saw(t);
            }
        }
        for t in &self.plan.updates {
            if scoring::scores(self.rules, &t.kind, t.channel) {
                self.plan.touched.add(t);
            } else {
                self.plan.touched.saw(t);
            }
        }
        let person = |id: &Uuid| self.known.people.get(id).cloned();
        self.plan.new_people = self.created_people.iter().filter_map(person).collect();
        self.plan.changed_people = self.changed_people.iter().filter_map(person).collect();
        self.plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingestion::{AccountHint, RawTouchpoint};
    use entity::vocab::Channel;

    fn checked(raw: RawTouchpoint) -> NewTouchpoint {
        NewTouchpoint::check(raw, Utc::now()).unwrap()
    }

    fn visit(id: &str) -> RawTouchpoint {
        let at = "2026-03-01T10:00:00Z".parse().unwrap();
        RawTouchpoint::new("api", id, Channel::Web, "page.visited", at)
    }

    fn key() -> ErasureKey {
        crate::workspaces::new_erasure_key()
    }

    #[test]
    fn later_items_find_what_earlier_ones_made() {
        let ada = |id: &str| RawTouchpoint {
            person: Some(NewPerson {
                email: Some("ada@initech.com".into()),
                ..NewPerson::default()
            }),
            ..visit(id)
        };
        let items = vec![
            Ok(checked(ada("a"))),
            Ok(checked(ada("b"))),
            Ok(checked(ada("a"))),
        ];
        let plan = build(Uuid::nil(), &key(), &[], Known::default(), items);
        let outcomes: Vec<RecordOutcome> = plan.recorded.iter().map(|r| r.outcome).collect();
        use RecordOutcome::{Created, Unchanged};
        assert_eq!(outcomes, [Created, Created, Unchanged]);
        assert_eq!(plan.new_people.len(), 1, "one Ada");
        assert_eq!(plan.identities.len(), 1, "one email identity");
        assert_eq!(plan.inserts.len(), 2);
        assert!(
            plan.inserts
                .iter()
                .all(|t| t.stakeholder_id == Some(plan.new_people[0].id))
        );
    }

    #[test]
    fn a_failed_item_changes_nothing() {
        let nowhere = RawTouchpoint {
            person: Some(NewPerson {
                email: Some("dan@initech.com".into()),
                ..NewPerson::default()
            }),
            account: Some(Uuid::now_v7()),
            ..visit("x")
        };
        let long_name = RawTouchpoint {
            person: Some(NewPerson {
                email: Some("eve@initech.com".into()),
                name: Some("e".repeat(201)),
                ..NewPerson::default()
            }),
            ..visit("y")
        };
        let items = vec![Ok(checked(nowhere)), Ok(checked(long_name))];
        let plan = build(Uuid::nil(), &key(), &[], Known::default(), items);
        assert!(matches!(
            plan.recorded[0].result,
            Err(CoreError::NotFound { what: "account" })
        ));
        assert!(plan.recorded[1].result.is_err());
        assert!(plan.new_people.is_empty() && plan.identities.is_empty());
        assert!(plan.lifecycle.is_empty() && plan.inserts.is_empty());
    }

    #[test]
    fn an_organisation_is_one_account_whatever_the_case_of_its_name() {
        let from = |id: &str, name: &str| {
            let mut raw = visit(id);
            raw.account_hint = Some(AccountHint {
                external_id: None,
                name: Some(name.into()),
            });
            raw
        };
        let items = vec![
            Ok(checked(from("a", "Initech"))),
            Ok(checked(from("b", " INITECH "))),
        ];
        let plan = build(Uuid::nil(), &key(), &[], Known::default(), items);
        assert_eq!(plan.new_accounts.len(), 1);
        let account = *plan.new_accounts[0].id.as_ref();
        assert!(plan.inserts.iter().all(|t| t.account_id == Some(account)));
    }
}
