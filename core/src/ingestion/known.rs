//! What the database already holds about a batch, read before anything is
//! written, in a fixed number of statements whatever the batch's size: one
//! per kind of thing a touchpoint can name.

use std::collections::{BTreeMap, HashMap, HashSet};

use entity::vocab::IdentityKind;
use entity::workspace::ErasureKey;
use entity::{account, account_domain, account_ref, identity, membership, stakeholder, touchpoint};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LockType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use uuid::Uuid;

use super::NewTouchpoint;
use crate::people::identities::email_domain;
use crate::{CoreResult, privacy};

/// Where a touchpoint's external id is unique: among one connector's, or
/// among the API's of one source.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Scope {
    Connector(Uuid),
    Source(String),
}

/// A touchpoint's identity: its scope and its external id there.
pub(super) type Key = (Scope, String);

impl Scope {
    pub(super) fn of(connector: Option<Uuid>, source: &str) -> Self {
        match connector {
            Some(id) => Self::Connector(id),
            None => Self::Source(source.to_owned()),
        }
    }

    fn of_touchpoint(t: &touchpoint::Model) -> Self {
        Self::of(t.connector_id, &t.source)
    }
}

/// The database's side of a batch.
#[derive(Default)]
pub(super) struct Known {
    /// Touchpoints already recorded under the batch's keys, erased ones under
    /// their erased ids.
    pub touchpoints: HashMap<Key, touchpoint::Model>,
    /// The people the batch names by id or by an identity.
    pub people: HashMap<Uuid, stakeholder::Model>,
    /// Who holds each of the batch's identities.
    pub owners: HashMap<(IdentityKind, String), Uuid>,
    /// The accounts the batch names by id that exist.
    pub accounts: HashSet<Uuid>,
    /// A connector's organisation id → the account it maps to.
    pub refs: HashMap<(Uuid, String), Uuid>,
    /// An email domain → the account that owns it.
    pub domains: HashMap<String, Uuid>,
    /// Each known person's memberships, oldest first.
    pub memberships: HashMap<Uuid, Vec<membership::Model>>,
    /// A lower-cased organisation name → the oldest account of that name.
    pub named: HashMap<String, Uuid>,
}

/// An organisation name as accounts are matched by it.
pub(super) fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// The organisation name a hint gives, trimmed; none when blank.
pub(super) fn hint_name(item: &NewTouchpoint) -> Option<&str> {
    item.account_hint
        .as_ref()
        .and_then(|h| h.name.as_deref())
        .map(str::trim)
        .filter(|n| !n.is_empty())
}

/// A connector's organisation id, when the item comes from a connector.
pub(super) fn hint_ref(item: &NewTouchpoint) -> Option<(Uuid, String)> {
    let external_id = item.account_hint.as_ref()?.external_id.as_deref()?;
    Some((item.connector?, external_id.to_owned()))
}

impl Known {
    /// Reads what the database holds about `items`.
    pub(super) async fn load(
        db: &impl ConnectionTrait,
        ws: Uuid,
        key: &ErasureKey,
        items: &[&NewTouchpoint],
    ) -> CoreResult<Self> {
        let mut known = Self {
            touchpoints: touchpoints(db, ws, key, items).await?,
            owners: owners(db, ws, items).await?,
            ..Self::default()
        };
        let named_people = items.iter().filter_map(|i| i.stakeholder);
        let people: HashSet<Uuid> = known.owners.values().copied().chain(named_people).collect();
        // Whoever a stored touchpoint of the batch is with may lose it.
        let holders = known.touchpoints.values().filter_map(|t| t.stakeholder_id);
        let locked: HashSet<Uuid> = people.iter().copied().chain(holders).collect();
        if !locked.is_empty() {
            // Locked as they are read: a concurrent batch for the same people
            // commits first, and everything read from here on (memberships,
            // positions, stored scores) includes what it wrote.
            let rows = stakeholder::Entity::find()
                .filter(stakeholder::Column::WorkspaceId.eq(ws))
                .filter(stakeholder::Column::Id.is_in(locked))
                .order_by_asc(stakeholder::Column::Id)
                .lock(LockType::NoKeyUpdate)
                .all(db)
                .await?;
            known.people = rows
                .into_iter()
                .filter(|p| people.contains(&p.id))
                .map(|p| (p.id, p))
                .collect();
        }
        if !known.people.is_empty() {
            let rows = membership::Entity::find()
                .filter(membership::Column::WorkspaceId.eq(ws))
                .filter(membership::Column::StakeholderId.is_in(known.people.keys().copied()))
                .order_by_asc(membership::Column::Id)
                .all(db)
                .await?;
            for m in rows {
                known
                    .memberships
                    .entry(m.stakeholder_id)
                    .or_default()
                    .push(m);
            }
        }
        let named_accounts: HashSet<Uuid> = items.iter().filter_map(|i| i.account).collect();
        if !named_accounts.is_empty() {
            known.accounts = account::Entity::find()
                .filter(account::Column::WorkspaceId.eq(ws))
                .filter(account::Column::Id.is_in(named_accounts))
                .all(db)
                .await?
                .into_iter()
                .map(|a| a.id)
                .collect();
        }
        known.refs = refs(db, ws, items).await?;
        let emails = (items.iter().flat_map(|i| i.identities()))
            .filter(|(kind, _)| *kind == IdentityKind::Email)
            .map(|(_, email)| email.as_str())
            .chain(known.people.values().filter_map(|p| p.email.as_deref()));
        let domains: HashSet<String> = emails.filter_map(email_domain).map(str::to_owned).collect();
        if !domains.is_empty() {
            known.domains = account_domain::Entity::find()
                .filter(account_domain::Column::WorkspaceId.eq(ws))
                .filter(account_domain::Column::Domain.is_in(domains))
                .all(db)
                .await?
                .into_iter()
                .map(|d| (d.domain, d.account_id))
                .collect();
        }
        let names: HashSet<String> = items
            .iter()
            .filter_map(|i| hint_name(i))
            .map(name_key)
            .collect();
        if !names.is_empty() {
            let rows = account::Entity::find()
                .filter(account::Column::WorkspaceId.eq(ws))
                .filter(Expr::expr(Func::lower(Expr::col(account::Column::Name))).is_in(names))
                .order_by_asc(account::Column::Id)
                .all(db)
                .await?;
            for a in rows {
                known.named.entry(name_key(&a.name)).or_insert(a.id);
            }
        }
        Ok(known)
    }
}

/// The touchpoints recorded under the items' keys (or their erased ids), in
/// one statement: per scope, `external_id IN (…)` through that scope's
/// unique index.
async fn touchpoints(
    db: &impl ConnectionTrait,
    ws: Uuid,
    key: &ErasureKey,
    items: &[&NewTouchpoint],
) -> CoreResult<HashMap<Key, touchpoint::Model>> {
    let mut by_scope: BTreeMap<Scope, Vec<String>> = BTreeMap::new();
    for item in items {
        let ids = by_scope
            .entry(Scope::of(item.connector, &item.source))
            .or_default();
        ids.push(item.external_id.clone());
        ids.push(privacy::erased_external_id(
            key,
            ws,
            &item.source,
            &item.external_id,
        ));
    }
    if by_scope.is_empty() {
        return Ok(HashMap::new());
    }
    let lookup = recorded_under(db.get_database_backend(), ws, by_scope);
    let rows = touchpoint::Entity::find()
        .from_raw_sql(lookup)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|t| ((Scope::of_touchpoint(&t), t.external_id.clone()), t))
        .collect())
}

/// The touchpoints recorded under these external ids, per scope, each found
/// through its scope's unique index with every key column in the index
/// condition: one `SELECT` per scope, joined by `UNION ALL`. Each is a plain
/// conjunction, so that the planners see it implies its partial index's
/// condition (`connector_id IS [NOT] NULL`). On PostgreSQL each id is its own
/// lookup (a `LATERAL … LIMIT 1` over the ids): given `external_id =
/// ANY(…)`, the planner may scan the whole scope and filter when its
/// statistics think the scope small (a source they have never seen), however
/// large it is. SQLite probes the index once per value of an `IN`.
pub(super) fn recorded_under(
    backend: DbBackend,
    ws: Uuid,
    by_scope: BTreeMap<Scope, Vec<String>>,
) -> Statement {
    let postgres = backend == DbBackend::Postgres;
    let mut values: Vec<sea_orm::Value> = vec![ws.into()];
    let mut placeholder = |value: sea_orm::Value| {
        values.push(value);
        if postgres {
            format!("${}", values.len())
        } else {
            "?".to_owned()
        }
    };
    let mut arms = Vec::new();
    for (scope, ids) in by_scope {
        // SQLite numbers `?` in the order they appear: the workspace first.
        let ws = if postgres {
            "$1".to_owned()
        } else {
            placeholder(ws.into())
        };
        let same_scope = match scope {
            Scope::Connector(id) => format!("connector_id = {}", placeholder(id.into())),
            Scope::Source(source) => {
                format!(
                    "connector_id IS NULL AND source = {}",
                    placeholder(source.into())
                )
            }
        };
        let ids: Vec<String> = ids.into_iter().map(|id| placeholder(id.into())).collect();
        arms.push(if postgres {
            let keys: Vec<String> = ids.iter().map(|p| format!("({p})")).collect();
            format!(
                "SELECT t.* FROM (VALUES {}) AS k(external_id) CROSS JOIN LATERAL \
                 (SELECT * FROM touchpoints WHERE workspace_id = {ws} AND {same_scope} \
                 AND external_id = k.external_id LIMIT 1) AS t",
                keys.join(", ")
            )
        } else {
            format!(
                "SELECT * FROM touchpoints WHERE workspace_id = {ws} AND {same_scope} \
                 AND external_id IN ({})",
                ids.join(", ")
            )
        });
    }
    if !postgres {
        // The workspace was bound per arm.
        values.remove(0);
    }
    Statement::from_sql_and_values(backend, arms.join(" UNION ALL "), values)
}

/// Who holds each identity the items name, in one statement: per kind,
/// `value IN (…)` through the `(workspace, kind, value)` unique index.
async fn owners(
    db: &impl ConnectionTrait,
    ws: Uuid,
    items: &[&NewTouchpoint],
) -> CoreResult<HashMap<(IdentityKind, String), Uuid>> {
    let mut by_kind: HashMap<IdentityKind, HashSet<String>> = HashMap::new();
    for (kind, value) in items.iter().flat_map(|i| i.identities()) {
        by_kind.entry(*kind).or_default().insert(value.clone());
    }
    if by_kind.is_empty() {
        return Ok(HashMap::new());
    }
    let mut any = Condition::any();
    for (kind, values) in by_kind {
        any = any.add(
            Condition::all()
                .add(identity::Column::Kind.eq(kind))
                .add(identity::Column::Value.is_in(values)),
        );
    }
    let rows = identity::Entity::find()
        .filter(identity::Column::WorkspaceId.eq(ws))
        .filter(any)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|i| ((i.kind, i.value), i.stakeholder_id))
        .collect())
}

/// The accounts the items' connector organisation ids map to, in one
/// statement.
async fn refs(
    db: &impl ConnectionTrait,
    ws: Uuid,
    items: &[&NewTouchpoint],
) -> CoreResult<HashMap<(Uuid, String), Uuid>> {
    let mut by_connector: BTreeMap<Uuid, HashSet<String>> = BTreeMap::new();
    for (connector, external_id) in items.iter().filter_map(|i| hint_ref(i)) {
        by_connector
            .entry(connector)
            .or_default()
            .insert(external_id);
    }
    if by_connector.is_empty() {
        return Ok(HashMap::new());
    }
    let mut any = Condition::any();
    for (connector, ids) in by_connector {
        any = any.add(
            Condition::all()
                .add(account_ref::Column::ConnectorId.eq(connector))
                .add(account_ref::Column::ExternalId.is_in(ids)),
        );
    }
    let rows = account_ref::Entity::find()
        .filter(account_ref::Column::WorkspaceId.eq(ws))
        .filter(any)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.connector_id, r.external_id), r.account_id))
        .collect())
}
