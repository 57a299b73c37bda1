//! The built-in templates (FIVE_STAGE, AIDA, KOPAN, MCKINSEY, BABCOCK_JENKINS) as plain data.

use entity::vocab::{self, JourneyTemplate as Template, OwnerTeam as Team};

use super::models::NewStage;

const DAY: i64 = 86_400;

fn spec(
    key: &str,
    name: &str,
    team: Team,
    days: i64,
    kinds: &[&str],
    channels: &[vocab::Channel],
) -> NewStage {
    NewStage {
        key: key.to_owned(),
        name: name.to_owned(),
        owner_team: team,
        target_duration_secs: Some(days * DAY),
        continuous: false,
        parent_key: None,
        entry_kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
        entry_channels: channels.to_vec(),
        playbook: vec![],
    }
}

/// A template's name, stages and loop.
pub struct TemplateSpec {
    pub name: &'static str,
    pub stages: Vec<NewStage>,
    pub circular: bool,
    pub loop_to: Option<&'static str>,
}

/// The template's model; CUSTOM has none, its stages come from the caller.
pub fn template(t: Template) -> Option<TemplateSpec> {
    use vocab::Channel as C;
    let (name, stages, circular, loop_to) = match t {
        Template::FiveStage => (
            "Five-stage customer journey",
            vec![
                spec(
                    "awareness",
                    "Awareness",
                    Team::Marketing,
                    30,
                    &["tweet.mention", "page.visited", "ad.clicked"],
                    &[C::Social, C::Ad],
                ),
                spec(
                    "consideration",
                    "Consideration",
                    Team::Marketing,
                    45,
                    &[
                        "webinar.registered",
                        "webinar.attended",
                        "whitepaper.downloaded",
                        "email.clicked",
                    ],
                    &[C::Webinar],
                ),
                spec(
                    "purchase_decision",
                    "Purchase Decision",
                    Team::Sales,
                    60,
                    &[
                        "meeting.held",
                        "demo.requested",
                        "proposal.sent",
                        "deal.won",
                    ],
                    &[C::Meeting],
                ),
                spec(
                    "retention",
                    "Retention",
                    Team::Service,
                    365,
                    &["ticket.opened", "ticket.solved", "onboarding.completed"],
                    &[C::Support],
                ),
                spec(
                    "loyalty_advocacy",
                    "Loyalty & Advocacy",
                    Team::Relationship,
                    365,
                    &["review.posted", "referral.made", "case_study.published"],
                    &[],
                ),
            ],
            false,
            None,
        ),
        Template::Aida => (
            "AIDA",
            vec![
                spec(
                    "attention",
                    "Attention",
                    Team::Marketing,
                    30,
                    &["tweet.mention", "ad.clicked", "page.visited"],
                    &[C::Social, C::Ad],
                ),
                spec(
                    "interest",
                    "Interest",
                    Team::Marketing,
                    30,
                    &[
                        "webinar.registered",
                        "whitepaper.downloaded",
                        "email.clicked",
                    ],
                    &[C::Webinar],
                ),
                spec(
                    "desire",
                    "Desire",
                    Team::Sales,
                    45,
                    &["demo.requested", "meeting.held", "webinar.attended"],
                    &[C::Meeting],
                ),
                spec(
                    "action",
                    "Action",
                    Team::Sales,
                    30,
                    &["deal.won", "trial.started"],
                    &[],
                ),
            ],
            false,
            None,
        ),
        Template::Kopan => (
            "KOPAN",
            vec![
                spec(
                    "know",
                    "Know",
                    Team::Marketing,
                    30,
                    &["tweet.mention", "page.visited", "webinar.registered"],
                    &[C::Social, C::Web],
                ),
                spec(
                    "observe_needs",
                    "Observe needs",
                    Team::Sales,
                    30,
                    &["meeting.held", "call.held"],
                    &[C::Meeting, C::Phone],
                ),
                spec(
                    "present",
                    "Present",
                    Team::Sales,
                    30,
                    &["demo.requested", "proposal.sent"],
                    &[],
                ),
                spec("close", "Close", Team::Sales, 30, &["deal.won"], &[]),
                spec(
                    "aftercare",
                    "Aftercare",
                    Team::Service,
                    365,
                    &["ticket.opened", "ticket.solved", "satisfaction.rated"],
                    &[C::Support],
                ),
            ],
            false,
            None,
        ),
        Template::Mckinsey => (
            "McKinsey consumer decision journey",
            vec![
                spec(
                    "consider",
                    "Consider",
                    Team::Marketing,
                    30,
                    &["tweet.mention", "ad.clicked", "page.visited"],
                    &[C::Social, C::Ad],
                ),
                spec(
                    "evaluate",
                    "Evaluate",
                    Team::Marketing,
                    45,
                    &[
                        "webinar.attended",
                        "whitepaper.downloaded",
                        "demo.requested",
                    ],
                    &[C::Webinar],
                ),
                spec(
                    "purchase",
                    "Purchase",
                    Team::Sales,
                    30,
                    &["deal.won", "renewal.signed"],
                    &[],
                ),
                spec(
                    "experience",
                    "Experience",
                    Team::Service,
                    180,
                    &["ticket.opened", "ticket.solved", "onboarding.completed"],
                    &[C::Support],
                ),
                spec(
                    "advocate",
                    "Advocate",
                    Team::Relationship,
                    90,
                    &["review.posted", "referral.made"],
                    &[],
                ),
                spec(
                    "bond",
                    "Bond",
                    Team::Relationship,
                    365,
                    &["community.joined", "advisory_board.joined"],
                    &[],
                ),
            ],
            true,
            Some("purchase"),
        ),
        Template::BabcockJenkins => {
            let mut advocate = spec(
                "advocate",
                "Advocate",
                Team::Relationship,
                365,
                &["review.posted", "referral.made", "tweet.mention"],
                &[],
            );
            advocate.continuous = true;
            advocate.target_duration_secs = None;
            (
                "Babcock-Jenkins B2B journey",
                vec![
                    spec(
                        "discover",
                        "Discover",
                        Team::Marketing,
                        45,
                        &[
                            "page.visited",
                            "whitepaper.downloaded",
                            "webinar.registered",
                        ],
                        &[C::Web, C::Webinar],
                    ),
                    spec(
                        "consider",
                        "Consider",
                        Team::Sales,
                        60,
                        &["demo.requested", "meeting.held", "webinar.attended"],
                        &[C::Meeting],
                    ),
                    spec(
                        "decide",
                        "Decide",
                        Team::Sales,
                        45,
                        &["proposal.sent", "deal.won"],
                        &[],
                    ),
                    advocate,
                ],
                false,
                None,
            )
        }
        Template::Custom => return None,
    };
    Some(TemplateSpec {
        name,
        stages,
        circular,
        loop_to,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journeys::models::check_stages;

    #[test]
    fn every_template_is_valid() {
        for t in [
            Template::FiveStage,
            Template::Aida,
            Template::Kopan,
            Template::Mckinsey,
            Template::BabcockJenkins,
        ] {
            let spec = template(t).unwrap();
            check_stages(&spec.stages, spec.loop_to).unwrap();
        }
        assert_eq!(template(Template::FiveStage).unwrap().stages.len(), 5);
        assert!(template(Template::Mckinsey).unwrap().circular);
    }

    #[test]
    fn custom_has_no_template() {
        assert!(template(Template::Custom).is_none());
    }
}
