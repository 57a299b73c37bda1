//! Merging stakeholders found to be one person, and undoing it exactly.
//!
//! A merge moves the others' touchpoints, identities, memberships, consents and
//! lifecycle history to the survivor, deletes the others, and writes a ledger
//! entry holding every row and id it touched. Unmerging puts each of them back
//! by id, so the data returns to what it was. Scores are derived and recomputed;
//! a survivor (or account) whose joined score reaches the MQL threshold
//! qualifies, and an unmerge takes that back too. Unmerging into an erased
//! survivor brings the others back erased.

use chrono::{DateTime, Utc};
use entity::vocab::{DmuRole, EventType, Lifecycle};
use entity::{
    account, consent, identity, lifecycle_change, membership, merge, stakeholder, touchpoint,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::events::{self, NewEvent};
use crate::people::stakeholders;
use crate::scoring::{self, Touched};
use crate::{CoreError, CoreResult, time};

#[derive(Serialize, Deserialize, Clone)]
struct PersonRow {
    id: Uuid,
    name: Option<String>,
    email: Option<String>,
    title: Option<String>,
    lifecycle: Lifecycle,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<&stakeholder::Model> for PersonRow {
    fn from(s: &stakeholder::Model) -> Self {
        Self {
            id: s.id,
            name: s.name.clone(),
            email: s.email.clone(),
            title: s.title.clone(),
            lifecycle: s.lifecycle,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Serialize, Deserialize, Clone)]
struct MembershipRow {
    id: Uuid,
    account_id: Uuid,
    stakeholder_id: Uuid,
    role: Option<DmuRole>,
    primary: bool,
    created_at: DateTime<Utc>,
}

impl From<&membership::Model> for MembershipRow {
    fn from(m: &membership::Model) -> Self {
        Self {
            id: m.id,
            account_id: m.account_id,
            stakeholder_id: m.stakeholder_id,
            role: m.role,
            primary: m.primary,
            created_at: m.created_at,
        }
    }
}

/// One lifecycle change of a merged stakeholder, kept in the ledger until an
/// unmerge puts it back.
#[derive(Serialize, Deserialize, Clone)]
struct LifecycleRow {
    id: Uuid,
    stakeholder_id: Uuid,
    from: Option<Lifecycle>,
    to: Lifecycle,
    occurred_at: DateTime<Utc>,
    /// `privacy` blanks the free-text reason in it when its person is erased.
    cause: String,
    actor: Option<String>,
    touchpoint_id: Option<Uuid>,
}

/// One merged stakeholder: its row and the ids of everything that moved.
#[derive(Serialize, Deserialize)]
struct Merged {
    person: PersonRow,
    memberships: Vec<MembershipRow>,
    identities: Vec<Uuid>,
    touchpoints: Vec<Uuid>,
    consents: Vec<Uuid>,
    /// Lifecycle changes moved to the survivor, by merges made before their
    /// history was kept apart (see `lifecycle_rows`).
    lifecycle_changes: Vec<Uuid>,
    /// The merged person's own lifecycle history: out of the survivor's, so
    /// that the survivor's changes still follow one another.
    #[serde(default)]
    lifecycle_rows: Vec<LifecycleRow>,
}

/// Takes a merged person's lifecycle history out of the table, into the ledger.
async fn set_aside_lifecycle(
    db: &impl ConnectionTrait,
    person: Uuid,
) -> CoreResult<Vec<LifecycleRow>> {
    let rows = lifecycle_change::Entity::find()
        .filter(lifecycle_change::Column::StakeholderId.eq(person))
        .order_by_asc(lifecycle_change::Column::Id)
        .all(db)
        .await?;
    if !rows.is_empty() {
        lifecycle_change::Entity::delete_many()
            .filter(lifecycle_change::Column::Id.is_in(rows.iter().map(|c| c.id)))
            .exec(db)
            .await?;
    }
    Ok(rows
        .into_iter()
        .map(|c| LifecycleRow {
            id: c.id,
            stakeholder_id: person,
            from: c.from_lifecycle,
            to: c.to_lifecycle,
            occurred_at: c.occurred_at,
            cause: c.cause,
            actor: c.actor,
            touchpoint_id: c.touchpoint_id,
        })
        .collect())
}

/// Puts a merged person's lifecycle history back, ids and all.
async fn put_back_lifecycle(
    db: &impl ConnectionTrait,
    ws: Uuid,
    rows: &[LifecycleRow],
) -> CoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let rows = rows.iter().map(|r| lifecycle_change::ActiveModel {
        id: Set(r.id),
        workspace_id: Set(ws),
        account_id: Set(None),
        stakeholder_id: Set(Some(r.stakeholder_id)),
        from_lifecycle: Set(r.from),
        to_lifecycle: Set(r.to),
        occurred_at: Set(r.occurred_at),
        cause: Set(r.cause.clone()),
        actor: Set(r.actor.clone()),
        touchpoint_id: Set(r.touchpoint_id),
    });
    lifecycle_change::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

/// A lifecycle change to MQL the merge made: a survivor or account whose
/// joined score reached the threshold.
#[derive(Serialize, Deserialize)]
struct Qualified {
    change: Uuid,
    account_id: Option<Uuid>,
    from: Option<Lifecycle>,
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    survivor: PersonRow,
    survivor_memberships: Vec<MembershipRow>,
    merged: Vec<Merged>,
    /// Account-less touchpoints the merge brought into the survivor's account.
    #[serde(default)]
    adopted: Option<Adopted>,
    /// Qualifications the merge caused.
    #[serde(default)]
    qualified: Vec<Qualified>,
}

#[derive(Serialize, Deserialize)]
struct Adopted {
    account: Uuid,
    touchpoints: Vec<Uuid>,
}

/// Brings the survivor's account-less touchpoints into its primary account, as
/// if they had always been that person's; returns what moved, for the ledger.
async fn adopt(db: &impl ConnectionTrait, ws: Uuid, survivor: Uuid) -> CoreResult<Option<Adopted>> {
    let Some(primary) = membership::Entity::find()
        .filter(membership::Column::StakeholderId.eq(survivor))
        .filter(membership::Column::Primary.eq(true))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let orphans: Vec<Uuid> = touchpoint::Entity::find()
        .select_only()
        .column(touchpoint::Column::Id)
        .filter(touchpoint::Column::WorkspaceId.eq(ws))
        .filter(touchpoint::Column::StakeholderId.eq(survivor))
        .filter(touchpoint::Column::AccountId.is_null())
        .into_tuple()
        .all(db)
        .await?;
    if orphans.is_empty() {
        return Ok(None);
    }
    let since = crate::journeys::progression::earliest(db, &orphans).await?;
    set_account(db, &orphans, Some(primary.account_id)).await?;
    if let Some(since) = since {
        let rules = crate::journeys::progression::load_rules(db, ws).await?;
        let replay = crate::journeys::progression::Replay::since(primary.account_id, since);
        crate::journeys::progression::replay_all(db, &rules, &[replay]).await?;
    }
    Ok(Some(Adopted {
        account: primary.account_id,
        touchpoints: orphans,
    }))
}

async fn set_account(
    db: &impl ConnectionTrait,
    touchpoints: &[Uuid],
    account: Option<Uuid>,
) -> CoreResult<()> {
    touchpoint::Entity::update_many()
        .col_expr(touchpoint::Column::AccountId, Expr::value(account))
        .filter(touchpoint::Column::Id.is_in(touchpoints.to_vec()))
        .exec(db)
        .await?;
    Ok(())
}

async fn ids_of<E, C>(
    db: &impl ConnectionTrait,
    column: C,
    owner: Uuid,
    id: C,
) -> CoreResult<Vec<Uuid>>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    Ok(E::find()
        .select_only()
        .column(id)
        .filter(column.eq(owner))
        .into_tuple()
        .all(db)
        .await?)
}

async fn memberships_of(
    db: &impl ConnectionTrait,
    person: Uuid,
) -> CoreResult<Vec<membership::Model>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::StakeholderId.eq(person))
        .all(db)
        .await?)
}

/// Moves rows of `E` whose ids are `ids` to the stakeholder `to`.
async fn reassign<E: EntityTrait>(
    db: &impl ConnectionTrait,
    owner: E::Column,
    id: E::Column,
    ids: &[Uuid],
    to: Uuid,
) -> CoreResult<()> {
    if !ids.is_empty() {
        E::update_many()
            .col_expr(owner, Expr::value(to))
            .filter(id.is_in(ids.to_vec()))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Merges `others` into `survivor` and returns the ledger entry.
async fn merge_into(
    db: &impl ConnectionTrait,
    ws: Uuid,
    survivor: Uuid,
    others: &[Uuid],
    actor: &str,
) -> CoreResult<merge::Model> {
    let survivor_row = stakeholders::find(db, ws, survivor).await?;
    // An erased person takes in no one's records, and an erased record joins
    // no one: either would tie what was erased to someone known again.
    if survivor_row.erased_at.is_some() {
        return Err(CoreError::conflict(
            "the survivor was erased: an erased person takes in no one's records",
        ));
    }
    let survivor_memberships = memberships_of(db, survivor).await?;
    let mut held_accounts: Vec<Uuid> = survivor_memberships.iter().map(|m| m.account_id).collect();
    let mut has_primary = survivor_memberships.iter().any(|m| m.primary);
    let mut touched = Touched::default();
    let mut merged = Vec::new();
    let mut email = survivor_row.email.clone();
    for &other in others {
        let person = stakeholders::find(db, ws, other).await?;
        if person.erased_at.is_some() {
            return Err(CoreError::conflict(format!(
                "stakeholder {other} was erased: an erased record joins no one"
            )));
        }
        let memberships = memberships_of(db, other).await?;
        let record = Merged {
            person: PersonRow::from(&person),
            memberships: memberships.iter().map(MembershipRow::from).collect(),
            identities: ids_of::<identity::Entity, _>(
                db,
                identity::Column::StakeholderId,
                other,
                identity::Column::Id,
            )
            .await?,
            touchpoints: ids_of::<touchpoint::Entity, _>(
                db,
                touchpoint::Column::StakeholderId,
                other,
                touchpoint::Column::Id,
            )
            .await?,
            consents: ids_of::<consent::Entity, _>(
                db,
                consent::Column::StakeholderId,
                other,
                consent::Column::Id,
            )
            .await?,
            lifecycle_changes: Vec::new(),
            lifecycle_rows: set_aside_lifecycle(db, other).await?,
        };
        reassign::<identity::Entity>(
            db,
            identity::Column::StakeholderId,
            identity::Column::Id,
            &record.identities,
            survivor,
        )
        .await?;
        reassign::<touchpoint::Entity>(
            db,
            touchpoint::Column::StakeholderId,
            touchpoint::Column::Id,
            &record.touchpoints,
            survivor,
        )
        .await?;
        reassign::<consent::Entity>(
            db,
            consent::Column::StakeholderId,
            consent::Column::Id,
            &record.consents,
            survivor,
        )
        .await?;
        for m in memberships {
            touched.accounts.entry(m.account_id).or_default();
            if held_accounts.contains(&m.account_id) {
                // The survivor is already a member; the other's copy goes (and
                // comes back on unmerge from the ledger).
                membership::Entity::delete_by_id(m.id).exec(db).await?;
            } else {
                let primary = m.primary && !has_primary;
                has_primary |= primary;
                held_accounts.push(m.account_id);
                membership::ActiveModel {
                    id: Set(m.id),
                    stakeholder_id: Set(survivor),
                    primary: Set(primary),
                    ..Default::default()
                }
                .update(db)
                .await?;
            }
        }
        if email.is_none() {
            email = person.email.clone();
        }
        stakeholder::Entity::delete_by_id(other).exec(db).await?;
        merged.push(record);
    }
    stakeholder::ActiveModel {
        id: Set(survivor),
        email: Set(email),
        updated_at: Set(time::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    let adopted = adopt(db, ws, survivor).await?;
    if let Some(a) = &adopted {
        touched.accounts.entry(a.account).or_default();
    }
    // The survivor's own accounts roll up its new score too.
    for m in &survivor_memberships {
        touched.accounts.entry(m.account_id).or_default();
    }
    touched.stakeholders.entry(survivor).or_default();
    let accounts: Vec<Uuid> = touched.accounts.keys().copied().collect();
    rescore_only(db, ws, touched).await?;
    let qualified = scoring::qualify_merged(db, ws, survivor, &accounts)
        .await?
        .into_iter()
        .map(|c| Qualified {
            change: c.id,
            account_id: c.account_id,
            from: c.from_lifecycle,
        })
        .collect();
    let snapshot = Snapshot {
        qualified,
        adopted,
        survivor: PersonRow::from(&survivor_row),
        survivor_memberships: survivor_memberships
            .iter()
            .map(MembershipRow::from)
            .collect(),
        merged,
    };
    let entry = merge::ActiveModel {
        id: Set(entity::new_id()),
        workspace_id: Set(ws),
        survivor_id: Set(survivor),
        snapshot: Set(
            serde_json::to_value(&snapshot).map_err(|e| CoreError::Internal(e.to_string()))?
        ),
        actor: Set(Some(actor.to_owned())),
        created_at: Set(time::now()),
        undone_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(entry)
}

/// Rescores people and accounts without treating the change as a qualifying
/// event (a merge qualifies its survivor separately, in its ledger).
async fn rescore_only(db: &impl ConnectionTrait, ws: Uuid, touched: Touched) -> CoreResult<()> {
    let rules = scoring::rules_of(db, ws).await?;
    let now = time::now();
    for person in touched.stakeholders.keys() {
        scoring::recompute_stakeholder(db, ws, &rules, *person, now).await?;
    }
    for account in touched.accounts.keys() {
        scoring::recompute_account(db, *account).await?;
    }
    Ok(())
}

/// Undoes a merge, restoring every row and id it moved.
async fn undo(db: &impl ConnectionTrait, ws: Uuid, merge_id: Uuid) -> CoreResult<Vec<Uuid>> {
    let entry = merge::Entity::find_by_id(merge_id)
        .filter(merge::Column::WorkspaceId.eq(ws))
        .one(db)
        .await?
        .ok_or(CoreError::not_found("merge"))?;
    if entry.undone_at.is_some() {
        return Err(CoreError::Conflict("this merge was already undone".into()));
    }
    let snapshot: Snapshot = serde_json::from_value(entry.snapshot.clone())
        .map_err(|e| CoreError::Internal(e.to_string()))?;
    let survivor = stakeholders::find(db, ws, entry.survivor_id)
        .await
        .map_err(|_| CoreError::Conflict("the survivor no longer exists".into()))?;
    let s = &snapshot.survivor;
    stakeholder::ActiveModel {
        id: Set(survivor.id),
        name: Set(s.name.clone()),
        email: Set(s.email.clone()),
        title: Set(s.title.clone()),
        updated_at: Set(s.updated_at),
        ..Default::default()
    }
    .update(db)
    .await?;
    let mut touched = Touched::default();
    touched.stakeholders.entry(survivor.id).or_default();
    let mut restored = Vec::new();
    // Erasing the survivor erased everyone merged into them (their identities,
    // consents and touchpoints were the survivor's by then): they come back
    // as erased as the survivor is, with nothing personal.
    let erased = survivor.erased_at;
    let personal = |field: &Option<String>| field.clone().filter(|_| erased.is_none());
    for m in &snapshot.merged {
        let p = &m.person;
        stakeholder::ActiveModel {
            id: Set(p.id),
            workspace_id: Set(ws),
            name: Set(personal(&p.name)),
            email: Set(personal(&p.email)),
            title: Set(personal(&p.title)),
            lifecycle: Set(p.lifecycle),
            score: Set(0.0),
            created_at: Set(p.created_at),
            updated_at: Set(p.updated_at),
            erased_at: Set(erased),
        }
        .insert(db)
        .await?;
        reassign::<identity::Entity>(
            db,
            identity::Column::StakeholderId,
            identity::Column::Id,
            &m.identities,
            p.id,
        )
        .await?;
        reassign::<touchpoint::Entity>(
            db,
            touchpoint::Column::StakeholderId,
            touchpoint::Column::Id,
            &m.touchpoints,
            p.id,
        )
        .await?;
        reassign::<consent::Entity>(
            db,
            consent::Column::StakeholderId,
            consent::Column::Id,
            &m.consents,
            p.id,
        )
        .await?;
        reassign::<lifecycle_change::Entity>(
            db,
            lifecycle_change::Column::StakeholderId,
            lifecycle_change::Column::Id,
            &m.lifecycle_changes,
            p.id,
        )
        .await?;
        put_back_lifecycle(db, ws, &m.lifecycle_rows).await?;
        for row in &m.memberships {
            restore_membership(db, ws, row).await?;
            touched.accounts.entry(row.account_id).or_default();
        }
        touched.stakeholders.entry(p.id).or_default();
        restored.push(p.id);
    }
    for row in &snapshot.survivor_memberships {
        restore_membership(db, ws, row).await?;
        touched.accounts.entry(row.account_id).or_default();
    }
    if let Some(adopted) = &snapshot.adopted {
        let since = crate::journeys::progression::earliest(db, &adopted.touchpoints).await?;
        set_account(db, &adopted.touchpoints, None).await?;
        if let Some(since) = since {
            let rules = crate::journeys::progression::load_rules(db, ws).await?;
            let replay = crate::journeys::progression::Replay::since(adopted.account, since);
            crate::journeys::progression::replay_all(db, &rules, &[replay]).await?;
        }
        touched.accounts.entry(adopted.account).or_default();
    }
    // Take back the qualifications the merge made, where nothing followed
    // them: a change in the middle of a history stays, as does the lifecycle
    // it led to, so every history still adds up.
    for q in &snapshot.qualified {
        let subject = match q.account_id {
            Some(account) => lifecycle_change::Column::AccountId.eq(account),
            None => lifecycle_change::Column::StakeholderId.eq(survivor.id),
        };
        let last: Option<Uuid> = lifecycle_change::Entity::find()
            .select_only()
            .column(lifecycle_change::Column::Id)
            .filter(subject)
            .order_by_desc(lifecycle_change::Column::Id)
            .into_tuple()
            .one(db)
            .await?;
        if last != Some(q.change) {
            continue;
        }
        lifecycle_change::Entity::delete_by_id(q.change)
            .exec(db)
            .await?;
        let Some(from) = q.from else { continue };
        match q.account_id {
            Some(account) => {
                account::Entity::update_many()
                    .col_expr(account::Column::Lifecycle, Expr::value(from))
                    .filter(account::Column::Id.eq(account))
                    .exec(db)
                    .await?;
            }
            None => {
                stakeholder::Entity::update_many()
                    .col_expr(stakeholder::Column::Lifecycle, Expr::value(from))
                    .filter(stakeholder::Column::Id.eq(survivor.id))
                    .exec(db)
                    .await?;
            }
        }
    }
    merge::ActiveModel {
        id: Set(entry.id),
        undone_at: Set(Some(time::now())),
        ..Default::default()
    }
    .update(db)
    .await?;
    rescore_only(db, ws, touched).await?;
    Ok(restored)
}

/// Puts a membership back as the ledger recorded it: updated when its row still
/// exists (it moved), inserted when it was dropped as a duplicate.
async fn restore_membership(
    db: &impl ConnectionTrait,
    ws: Uuid,
    row: &MembershipRow,
) -> CoreResult<()> {
    let active = membership::ActiveModel {
        id: Set(row.id),
        workspace_id: Set(ws),
        account_id: Set(row.account_id),
        stakeholder_id: Set(row.stakeholder_id),
        role: Set(row.role),
        primary: Set(row.primary),
        created_at: Set(row.created_at),
    };
    if membership::Entity::find_by_id(row.id)
        .one(db)
        .await?
        .is_some()
    {
        active.update(db).await?;
    } else {
        active.insert(db).await?;
    }
    Ok(())
}

/// Merges `others` (1 to 50 stakeholders other than the survivor) into
/// `survivor`, and returns the ledger entry.
pub async fn merge(
    txn: &impl ConnectionTrait,
    ws: Uuid,
    survivor: Uuid,
    mut others: Vec<Uuid>,
    actor: &str,
) -> CoreResult<merge::Model> {
    others.sort();
    others.dedup();
    if others.is_empty() || others.len() > 50 || others.contains(&survivor) {
        return Err(CoreError::invalid_field(
            "stakeholderIds",
            "merge 1 to 50 stakeholders other than the survivor",
        ));
    }
    let entry = merge_into(txn, ws, survivor, &others, actor).await?;
    let logged = NewEvent::merge(EventType::StakeholdersMerged, entry.id, survivor);
    events::append(txn, ws, vec![logged]).await?;
    Ok(entry)
}

/// A merge undone: its ledger entry, and the survivor then the restored people.
pub struct Unmerged {
    pub merge: merge::Model,
    pub people: Vec<stakeholder::Model>,
}

/// Undoes a merge: the merged stakeholders come back with their ids and
/// everything they had. CONFLICT when it was already undone.
pub async fn unmerge(txn: &impl ConnectionTrait, ws: Uuid, merge_id: Uuid) -> CoreResult<Unmerged> {
    let restored = undo(txn, ws, merge_id).await?;
    let entry = merge::Entity::find_by_id(merge_id)
        .one(txn)
        .await?
        .ok_or(CoreError::not_found("merge"))?;
    let mut people = vec![stakeholders::find(txn, ws, entry.survivor_id).await?];
    for id in restored {
        people.push(stakeholders::find(txn, ws, id).await?);
    }
    let logged = NewEvent::merge(EventType::MergeUndone, entry.id, entry.survivor_id);
    events::append(txn, ws, vec![logged]).await?;
    Ok(Unmerged {
        merge: entry,
        people,
    })
}

/// The ids the merged stakeholders had (and get back on unmerge).
pub fn merged_ids(entry: &merge::Model) -> Vec<Uuid> {
    let snapshot: Option<Snapshot> = serde_json::from_value(entry.snapshot.clone()).ok();
    snapshot
        .map(|s| s.merged.iter().map(|m| m.person.id).collect())
        .unwrap_or_default()
}
