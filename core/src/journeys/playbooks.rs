//! A stage's playbook: the ordered steps an account in the stage should get,
//! each owned by a team and, optionally, done once the account has a
//! touchpoint of a named kind after entering the stage. Stored on the stage
//! as JSON; read by next steps.

use entity::stage;
use entity::vocab::OwnerTeam;
use serde::{Deserialize, Serialize};

use crate::{CoreError, CoreResult};

/// At most this many steps a stage.
pub const MAX_STEPS: usize = 20;
/// At most this many done-when kinds a step.
const MAX_DONE_KINDS: usize = 10;

/// One step of a playbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaybookStep {
    /// What to do, 1 to 500 characters.
    pub text: String,
    /// The team that does it.
    pub owner_team: OwnerTeam,
    /// Touchpoint kinds that show it was done; with none, the step stays
    /// suggested as long as the account is in the stage.
    #[serde(default)]
    pub done_when: Vec<String>,
}

/// The steps with their text and kinds trimmed, so a stray space from a
/// client is neither refused nor kept in a kind that would never match.
pub fn trimmed(steps: Vec<PlaybookStep>) -> Vec<PlaybookStep> {
    steps
        .into_iter()
        .map(|step| PlaybookStep {
            text: step.text.trim().to_owned(),
            owner_team: step.owner_team,
            done_when: step.done_when.iter().map(|k| k.trim().to_owned()).collect(),
        })
        .collect()
}

/// Checks a trimmed playbook: at most 20 steps, each text 1 to 500
/// characters, at most 10 done-when kinds of 1 to 200 characters.
pub fn check(steps: &[PlaybookStep]) -> CoreResult<()> {
    if steps.len() > MAX_STEPS {
        return Err(CoreError::invalid(format!(
            "a playbook has at most {MAX_STEPS} steps"
        )));
    }
    for step in steps {
        if step.text.is_empty() || step.text.chars().count() > 500 {
            return Err(CoreError::invalid(
                "a playbook step's text must be 1 to 500 characters",
            ));
        }
        let kinds = &step.done_when;
        if kinds.len() > MAX_DONE_KINDS || kinds.iter().any(|k| k.is_empty() || k.len() > 200) {
            return Err(CoreError::invalid(format!(
                "a playbook step has at most {MAX_DONE_KINDS} done-when kinds of 1 to 200 characters"
            )));
        }
    }
    Ok(())
}

/// The stage's playbook, in order; empty when it has none.
pub fn of(stage: &stage::Model) -> Vec<PlaybookStep> {
    serde_json::from_value(stage.playbook.clone()).unwrap_or_default()
}

/// The playbook as stored on a stage (teams by their variant names, as the
/// stage's other JSON columns hold channels).
pub(crate) fn to_json(steps: &[PlaybookStep]) -> serde_json::Value {
    serde_json::json!(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(text: &str, done_when: &[&str]) -> PlaybookStep {
        PlaybookStep {
            text: text.to_owned(),
            owner_team: OwnerTeam::Sales,
            done_when: done_when.iter().map(|k| (*k).to_owned()).collect(),
        }
    }

    #[test]
    fn texts_and_kinds_are_trimmed() {
        let steps = trimmed(vec![step("  Book a demo ", &[" demo.booked"])]);
        assert_eq!(steps, vec![step("Book a demo", &["demo.booked"])]);
        assert!(check(&steps).is_ok());
    }

    #[test]
    fn empty_texts_kinds_and_long_playbooks_are_refused() {
        let refused = [
            vec![step("  ", &[])],
            vec![step("Call", &[" "])],
            vec![step(&"x".repeat(501), &[])],
            vec![step("Call", &[]); MAX_STEPS + 1],
        ];
        for steps in refused {
            let steps = trimmed(steps);
            assert!(matches!(check(&steps), Err(CoreError::InvalidInput { .. })));
        }
    }

    #[test]
    fn the_stored_form_reads_back() {
        let steps = vec![step("Send the ROI calculator", &["asset.shared"])];
        let json = to_json(&steps);
        assert_eq!(
            json,
            serde_json::json!([{
                "text": "Send the ROI calculator",
                "owner_team": "Sales",
                "done_when": ["asset.shared"],
            }])
        );
        let read: Vec<PlaybookStep> = serde_json::from_value(json).unwrap();
        assert_eq!(read, steps);
    }
}
