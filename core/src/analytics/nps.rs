//! Net promoter score, from the 0-10 scores of the `nps.responded`
//! touchpoints within a window.

use entity::touchpoint;
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::Window;
use crate::touchpoints::TouchpointFilter;
use crate::vocab::NPS_KIND;
use crate::{CoreResult, time};

/// The answers within a window, counted.
#[derive(Debug, Clone, PartialEq)]
pub struct Nps {
    /// Promoters minus detractors, as a percentage from -100 to 100; `None`
    /// without answers.
    pub score: Option<f64>,
    pub responses: usize,
    /// 9 or 10.
    pub promoters: usize,
    /// 7 or 8.
    pub passives: usize,
    /// 0 to 6.
    pub detractors: usize,
}

/// The net promoter score of the answers within the window.
pub async fn nps(db: &impl ConnectionTrait, workspace: Uuid, window: Window) -> CoreResult<Nps> {
    let scores: Vec<Option<f64>> = touchpoint::Entity::find()
        .select_only()
        .column(touchpoint::Column::Score)
        .filter(answers(workspace, window))
        .into_tuple()
        .all(db)
        .await?;
    let scores: Vec<f64> = scores.into_iter().flatten().collect();
    Ok(tally(&scores))
}

/// The detractors' answers within the window, as a touchpoint list selects
/// them.
pub fn detractors(window: Window) -> TouchpointFilter {
    TouchpointFilter {
        kinds: Some(vec![NPS_KIND.to_owned()]),
        occurred_after: Some(window.from),
        occurred_before: Some(window.to),
        max_score: Some(6.0),
        ..Default::default()
    }
}

/// Counts answers (whole numbers from 0 to 10) into an NPS.
pub fn tally(scores: &[f64]) -> Nps {
    let promoters = scores.iter().filter(|s| **s >= 9.0).count();
    let detractors = scores.iter().filter(|s| **s <= 6.0).count();
    let n = scores.len();
    Nps {
        score: (n > 0).then(|| (promoters as f64 - detractors as f64) * 100.0 / n as f64),
        responses: n,
        promoters,
        passives: n - promoters - detractors,
        detractors,
    }
}

fn answers(workspace: Uuid, window: Window) -> Condition {
    Condition::all()
        .add(touchpoint::Column::WorkspaceId.eq(workspace))
        .add(touchpoint::Column::Kind.eq(NPS_KIND))
        .add(touchpoint::Column::OccurredAt.gte(time::to_micros(window.from)))
        .add(touchpoint::Column::OccurredAt.lt(time::to_micros(window.to)))
        .add(Expr::col(touchpoint::Column::Score).is_not_null())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promoters_minus_detractors_over_all_answers() {
        let scores = [10.0, 9.0, 8.0, 7.0, 6.0, 0.0, 10.0];
        // 3 promoters, 2 passives, 2 detractors of 7: (3 - 2) * 100 / 7.
        let expected = Nps {
            score: Some(100.0 / 7.0),
            responses: 7,
            promoters: 3,
            passives: 2,
            detractors: 2,
        };
        assert_eq!(tally(&scores), expected);
    }

    #[test]
    fn the_boundaries_are_six_and_nine() {
        let nps = tally(&[6.0, 7.0, 8.0, 9.0]);
        assert_eq!((nps.detractors, nps.passives, nps.promoters), (1, 2, 1));
        assert_eq!(nps.score, Some(0.0));
    }

    #[test]
    fn no_answers_no_score() {
        let expected = Nps {
            score: None,
            responses: 0,
            promoters: 0,
            passives: 0,
            detractors: 0,
        };
        assert_eq!(tally(&[]), expected);
    }
}
