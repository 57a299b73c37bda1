//! Closed vocabularies stored as short strings, so that both backends hold the
//! same readable values and adding a variant needs no migration.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where an account or a person stands in the buying and customer lifecycle.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Lifecycle {
    #[sea_orm(string_value = "VISITOR")]
    Visitor,
    #[sea_orm(string_value = "LEAD")]
    Lead,
    #[sea_orm(string_value = "MQL")]
    Mql,
    #[sea_orm(string_value = "SQL")]
    Sql,
    #[sea_orm(string_value = "OPPORTUNITY")]
    Opportunity,
    #[sea_orm(string_value = "CUSTOMER")]
    Customer,
    #[sea_orm(string_value = "PROMOTER")]
    Promoter,
    #[sea_orm(string_value = "DISQUALIFIED")]
    Disqualified,
    #[sea_orm(string_value = "CHURNED")]
    Churned,
}

/// The medium a touchpoint happened through.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Channel {
    #[sea_orm(string_value = "SOCIAL")]
    Social,
    #[sea_orm(string_value = "WEBINAR")]
    Webinar,
    #[sea_orm(string_value = "SUPPORT")]
    Support,
    #[sea_orm(string_value = "EMAIL")]
    Email,
    #[sea_orm(string_value = "PHONE")]
    Phone,
    #[sea_orm(string_value = "MEETING")]
    Meeting,
    #[sea_orm(string_value = "WEB")]
    Web,
    #[sea_orm(string_value = "EVENT")]
    Event,
    #[sea_orm(string_value = "AD")]
    Ad,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// The team that owns a stage or a touchpoint; it makes hand-offs explicit.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum OwnerTeam {
    #[sea_orm(string_value = "MARKETING")]
    Marketing,
    #[sea_orm(string_value = "SALES")]
    Sales,
    #[sea_orm(string_value = "DELIVERY")]
    Delivery,
    #[sea_orm(string_value = "SERVICE")]
    Service,
    #[sea_orm(string_value = "RELATIONSHIP")]
    Relationship,
}

/// A stakeholder's role in the account's decision-making unit.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DmuRole {
    #[sea_orm(string_value = "DECISION_MAKER")]
    DecisionMaker,
    #[sea_orm(string_value = "INFLUENCER")]
    Influencer,
    #[sea_orm(string_value = "BUYER")]
    Buyer,
    #[sea_orm(string_value = "USER")]
    User,
    #[sea_orm(string_value = "GATEKEEPER")]
    Gatekeeper,
    #[sea_orm(string_value = "CHAMPION")]
    Champion,
    #[sea_orm(string_value = "INITIATOR")]
    Initiator,
}

/// The emotion a touchpoint expresses, from the seeds' journey-mapping vocabulary.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Emotion {
    #[sea_orm(string_value = "PAIN")]
    Pain,
    #[sea_orm(string_value = "PROBLEM")]
    Problem,
    #[sea_orm(string_value = "FEAR")]
    Fear,
    #[sea_orm(string_value = "WANT")]
    Want,
    #[sea_orm(string_value = "NEED")]
    Need,
    #[sea_orm(string_value = "DESIRE")]
    Desire,
}

/// The kind of an identity value; values are normalised per kind before storage.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum IdentityKind {
    #[sea_orm(string_value = "EMAIL")]
    Email,
    #[sea_orm(string_value = "TWITTER_USER_ID")]
    TwitterUserId,
    #[sea_orm(string_value = "TWITTER_HANDLE")]
    TwitterHandle,
    #[sea_orm(string_value = "ZOOM_REGISTRANT_ID")]
    ZoomRegistrantId,
    #[sea_orm(string_value = "ZENDESK_USER_ID")]
    ZendeskUserId,
    #[sea_orm(string_value = "PHONE")]
    Phone,
    #[sea_orm(string_value = "ANONYMOUS_ID")]
    AnonymousId,
    #[sea_orm(string_value = "VENDOR_USER_ID")]
    VendorUserId,
}

/// The built-in journey model templates of the product design.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum JourneyTemplate {
    #[sea_orm(string_value = "FIVE_STAGE")]
    FiveStage,
    #[sea_orm(string_value = "AIDA")]
    Aida,
    #[sea_orm(string_value = "KOPAN")]
    Kopan,
    #[sea_orm(string_value = "MCKINSEY")]
    Mckinsey,
    #[sea_orm(string_value = "BABCOCK_JENKINS")]
    BabcockJenkins,
    #[sea_orm(string_value = "CUSTOM")]
    Custom,
}

/// What moved an account between stages.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum TransitionCause {
    /// A touchpoint matched the stage's entry rules.
    #[sea_orm(string_value = "TOUCHPOINT")]
    Touchpoint,
    /// A person moved the account, with a reason.
    #[sea_orm(string_value = "MANUAL")]
    Manual,
}

/// Where a sync run is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum SyncStatus {
    #[sea_orm(string_value = "QUEUED")]
    Queued,
    #[sea_orm(string_value = "RUNNING")]
    Running,
    #[sea_orm(string_value = "SUCCEEDED")]
    Succeeded,
    #[sea_orm(string_value = "FAILED")]
    Failed,
    /// Stopped at a batch boundary by a shutdown; the next run resumes.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// What started a sync run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum SyncTrigger {
    #[sea_orm(string_value = "SCHEDULE")]
    Schedule,
    /// `triggerSync`.
    #[sea_orm(string_value = "API")]
    Api,
    /// `journeys sync`.
    #[sea_orm(string_value = "CLI")]
    Cli,
    /// Replaces a run whose instance stopped, resuming from its last batch.
    #[sea_orm(string_value = "TAKEOVER")]
    Takeover,
}

/// Whether a webhook endpoint receives deliveries.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum WebhookStatus {
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// Turned off by its owner, or after failing for too long.
    #[sea_orm(string_value = "DISABLED")]
    Disabled,
}

/// What an event of the event log says happened.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum EventType {
    #[sea_orm(string_value = "TOUCHPOINT_RECORDED")]
    TouchpointRecorded,
    #[sea_orm(string_value = "TOUCHPOINT_UPDATED")]
    TouchpointUpdated,
    /// An account's stage in one model changed, or it entered a phase.
    #[sea_orm(string_value = "STAGE_CHANGED")]
    StageChanged,
    /// A person's or an account's lifecycle changed.
    #[sea_orm(string_value = "LIFECYCLE_CHANGED")]
    LifecycleChanged,
    /// A person or an account became marketing-qualified (also a
    /// LIFECYCLE_CHANGED).
    #[sea_orm(string_value = "MQL_REACHED")]
    MqlReached,
    #[sea_orm(string_value = "STAKEHOLDERS_MERGED")]
    StakeholdersMerged,
    #[sea_orm(string_value = "MERGE_UNDONE")]
    MergeUndone,
    #[sea_orm(string_value = "STAKEHOLDER_ERASED")]
    StakeholderErased,
    /// A sync run was queued, started, saved a batch or finished.
    #[sea_orm(string_value = "SYNC_RUN_UPDATED")]
    SyncRunUpdated,
    #[sea_orm(string_value = "CONNECTOR_CREATED")]
    ConnectorCreated,
    #[sea_orm(string_value = "CONNECTOR_UPDATED")]
    ConnectorUpdated,
    #[sea_orm(string_value = "CONNECTOR_DELETED")]
    ConnectorDeleted,
}
