//! The GraphQL faces of the stored vocabularies (see `entity::vocab`).

use async_graphql::Enum;

/// Where an account or a person stands in the lifecycle.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::Lifecycle")]
pub enum Lifecycle {
    /// Seen (a page visit, a mention), but has left no contact details.
    Visitor,
    /// Has left contact details, such as an email address.
    Lead,
    /// Marketing-qualified lead: the score reached the workspace's MQL threshold.
    Mql,
    /// Sales-qualified lead: sales accepted the lead (`acceptLead`).
    Sql,
    /// In an active sales opportunity.
    Opportunity,
    /// Has bought.
    Customer,
    /// A customer who recommends the company.
    Promoter,
    /// Side exit: sales rejected the lead (`disqualifyLead`).
    Disqualified,
    /// Side exit: a former customer who has left.
    Churned,
}

/// The medium a touchpoint happened through.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::Channel")]
pub enum Channel {
    /// Social media, such as Twitter/X mentions and replies.
    Social,
    /// Webinar registrations and attendance.
    Webinar,
    /// Support tickets and satisfaction ratings.
    Support,
    /// Email.
    Email,
    /// Phone calls.
    Phone,
    /// Meetings, in person or online.
    Meeting,
    /// The website: page visits, downloads, forms.
    Web,
    /// Events such as conferences and trade shows.
    Event,
    /// Advertising, such as ad clicks.
    Ad,
    /// Any other medium.
    Other,
}

/// The team that owns a stage or a touchpoint; stage owners make the
/// hand-offs between teams explicit.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::OwnerTeam")]
pub enum OwnerTeam {
    /// Marketing: awareness and lead generation.
    Marketing,
    /// Sales: from qualified lead to signed deal. The hand-off gap waits for
    /// the first SALES-owned touchpoint.
    Sales,
    /// Delivery: installing or realising what was bought.
    Delivery,
    /// Customer service and support.
    Service,
    /// Relationship management: retention, loyalty and advocacy.
    Relationship,
}

/// A stakeholder's role in an account's decision-making unit.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::DmuRole")]
pub enum DmuRole {
    /// Makes the final buying decision.
    DecisionMaker,
    /// Shapes the decision without making it, such as a technical advisor.
    Influencer,
    /// Handles the purchase itself: terms, contract, procurement.
    Buyer,
    /// Will use the product or service.
    User,
    /// Controls access to the other members and the information they get.
    Gatekeeper,
    /// Argues for the purchase inside the account.
    Champion,
    /// First saw the need and started the buying process.
    Initiator,
}

/// The emotion a touchpoint expresses: what the customer feels at that step.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::Emotion")]
pub enum Emotion {
    /// A pain point they suffer from.
    Pain,
    /// A problem they want solved.
    Problem,
    /// A fear or worry, such as of a risk or a wrong choice.
    Fear,
    /// Something they would like to have.
    Want,
    /// Something they must have.
    Need,
    /// Something they long for: an aspiration.
    Desire,
}

/// The kind of an identity.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::IdentityKind")]
pub enum IdentityKind {
    /// An email address, trimmed and lower-cased.
    Email,
    /// A Twitter/X numeric user id.
    TwitterUserId,
    /// A Twitter/X handle, lower-cased, without the `@`.
    TwitterHandle,
    /// A Zoom webinar registrant id.
    ZoomRegistrantId,
    /// A Zendesk numeric user id.
    ZendeskUserId,
    /// A phone number: 6 to 15 digits, with a leading `+` when given one.
    Phone,
    /// A web visitor's anonymous id, before they are identified.
    AnonymousId,
    /// A person's id in another system, as `system:id` (`hubspot:5120`): how a
    /// connector with no identity kind of its own finds people.
    VendorUserId,
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
    /// Smallest, earliest or alphabetically first first.
    #[default]
    Asc,
    /// Largest, latest or alphabetically last first.
    Desc,
}

/// Where a sync run is.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::SyncStatus")]
pub enum SyncStatus {
    /// Waiting to start.
    Queued,
    /// Pulling and recording batches now.
    Running,
    /// Finished without error; items refused as bad data are counted in `failed`.
    Succeeded,
    /// Stopped by an error (see `errorCode` and `error`); batches saved before
    /// it stay, and the next run resumes after them.
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
    /// Replaces a run whose instance stopped (its lease lapsed), resuming
    /// from that run's last saved batch.
    Takeover,
}

/// Whether a webhook endpoint receives deliveries.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::WebhookStatus")]
pub enum WebhookStatus {
    /// Receives the events it wants, in log order.
    Active,
    /// Receives nothing: turned off with `updateWebhookEndpoint`, or after
    /// failing for too long (see `disabledReason`). Enabling it resumes
    /// after the last event delivered.
    Disabled,
}

/// What an event of the event log says happened.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::vocab::EventType")]
pub enum EventType {
    /// A touchpoint recorded for the first time.
    TouchpointRecorded,
    /// A recorded touchpoint delivered again with other content.
    TouchpointUpdated,
    /// An account's stage in one model changed, or it entered a continuous
    /// phase.
    StageChanged,
    /// A person's or an account's lifecycle changed.
    LifecycleChanged,
    /// A person or an account became marketing-qualified (beside its
    /// LIFECYCLE_CHANGED).
    MqlReached,
    /// Stakeholders were merged into a survivor.
    StakeholdersMerged,
    /// A merge was undone.
    MergeUndone,
    /// A person's personal data was erased.
    StakeholderErased,
    /// A sync run was queued, started, saved a batch or finished.
    SyncRunUpdated,
    ConnectorCreated,
    ConnectorUpdated,
    ConnectorDeleted,
}
