//! The GraphQL faces of the stored vocabularies (see `entity::vocab`).

use async_graphql::Enum;

/// Where an account or a person stands in the lifecycle.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::Lifecycle")]
pub enum Lifecycle {
    Visitor,
    Lead,
    Mql,
    Sql,
    Opportunity,
    Customer,
    Promoter,
    Disqualified,
    Churned,
}

/// The medium a touchpoint happened through.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::Channel")]
pub enum Channel {
    Social,
    Webinar,
    Support,
    Email,
    Phone,
    Meeting,
    Web,
    Event,
    Ad,
    Other,
}

/// The team that owns a stage or a touchpoint.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::OwnerTeam")]
pub enum OwnerTeam {
    Marketing,
    Sales,
    Delivery,
    Service,
    Relationship,
}

/// A stakeholder's role in an account's decision-making unit.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::DmuRole")]
pub enum DmuRole {
    DecisionMaker,
    Influencer,
    Buyer,
    User,
    Gatekeeper,
    Champion,
    Initiator,
}

/// The emotion a touchpoint expresses.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::Emotion")]
pub enum Emotion {
    Pain,
    Problem,
    Fear,
    Want,
    Need,
    Desire,
}

/// The kind of an identity.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::IdentityKind")]
pub enum IdentityKind {
    Email,
    TwitterUserId,
    TwitterHandle,
    ZoomRegistrantId,
    ZendeskUserId,
    Phone,
    AnonymousId,
}

/// A built-in journey model template, or CUSTOM.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::JourneyTemplate")]
pub enum JourneyTemplate {
    /// Awareness, Consideration, Purchase Decision, Retention, Loyalty & Advocacy.
    FiveStage,
    /// Attention, Interest, Desire, Action.
    Aida,
    /// Know, Observe needs, Present, Close, Aftercare.
    Kopan,
    /// The circular consumer decision journey; its loyalty loop returns to Purchase.
    Mckinsey,
    /// Discover, Consider, Decide, with Advocate as a continuous phase.
    BabcockJenkins,
    /// Stages given by the caller.
    Custom,
}

/// Sort direction.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

/// Where a sync run is.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::SyncStatus")]
pub enum SyncStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    /// Stopped at a batch boundary by a shutdown; the next run resumes.
    Cancelled,
}

/// What started a sync run.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::SyncTrigger")]
pub enum SyncTrigger {
    /// The connector's schedule.
    Schedule,
    /// `triggerSync`.
    Api,
    /// `journeys sync`.
    Cli,
}
