//! Turning a match's evidence into a confidence that means "how often an answer like this is
//! right", fitted for each FAQ on the FAQ itself.
//!
//! A fixed formula over similarities means different things on different FAQs: with five
//! entries the runner-up is far away and every answer looks sure; with five hundred, near-ties
//! are normal. So when an index is built, its own phrasings are asked back as questions with
//! the answer held out (see `faq_index`): a phrasing asked with only itself removed should find
//! its entry (a repeat question), one asked with its whole entry removed must find nothing (a
//! question the FAQ cannot answer). A logistic regression on those outcomes maps the evidence to
//! a probability of being right. The fit also sees a prior's judgement ([`Calibration::MEANING`]
//! with a model, [`Calibration::WORDS`] without) as pseudo-outcomes worth [`PRIOR_WEIGHT`]
//! questions, so an FAQ with few phrasings to learn from keeps the prior's, and a large one
//! overrides it.
//!
//! Three parameters fitted by Newton's method in closed form: a dependency (linfa-logistic)
//! takes no soft labels or sample weights, which is how the prior enters.

/// What is known about the best entry for one question.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// The entry's hybrid score (meaning plus a share of the words).
    pub score: f32,
    /// How far it is ahead of the best other entry.
    pub lead: f32,
}

impl Evidence {
    fn features(self) -> [f64; 3] {
        [f64::from(self.score), f64::from(self.lead), 1.0]
    }
}

/// Confidence = logistic(score_weight × score + lead_weight × lead + bias).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    pub score_weight: f64,
    pub lead_weight: f64,
    pub bias: f64,
}

/// How many held-out questions the prior's judgement weighs.
const PRIOR_WEIGHT: f64 = 100.0;
/// Below this many held-out outcomes (an FAQ of fewer than about 100 phrasings) the prior is
/// used as it is: in a small FAQ nearly every match has a large lead and the held-out questions
/// of a removed entry mostly find nothing, so a fit would learn that any lead means right.
const MIN_OUTCOMES: usize = 200;
/// Where the prior's pseudo-outcomes sit: the range of scores and leads real matches have.
const PRIOR_SCORES: [f32; 11] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
const PRIOR_LEADS: [f32; 5] = [0.0, 0.05, 0.1, 0.2, 0.3];
/// A whisper of ridge penalty keeps the Hessian invertible.
const RIDGE: f64 = 1e-6;
/// Newton's method on a logistic loss can overshoot from a far start; longer steps are cut.
const MAX_STEP: f64 = 4.0;
const NEWTON_STEPS: usize = 50;

impl Calibration {
    /// The prior for hybrid scores (MiniLM): the fits on BANKING77's held-out phrasings, two
    /// different sets of 61–62 entries, gave (7.1, 7.8, −6.8) and (7.3, 6.4, −6.8). A match
    /// scoring 0.95 alone is sure; one scoring 0.8 with a rival 0.15 behind is a coin toss.
    pub const MEANING: Calibration = Calibration { score_weight: 7.2, lead_weight: 7.0, bias: -6.8 };
    /// The prior for full-text scores alone: the words' cosine is about the confidence (0.5 →
    /// 0.5, 0.85 → 0.81), a little more with a clear lead.
    pub const WORDS: Calibration = Calibration { score_weight: 5.5, lead_weight: 1.0, bias: -3.2 };

    /// The confidence in [0, 1] that the entry with this evidence answers the question.
    pub fn confidence(&self, evidence: Evidence) -> f32 {
        let [s, l, one] = evidence.features();
        let z = self.score_weight * s + self.lead_weight * l + self.bias * one;
        (1.0 / (1.0 + (-z).exp())) as f32
    }

    fn weights(&self) -> [f64; 3] {
        [self.score_weight, self.lead_weight, self.bias]
    }

    /// Fits the calibration to held-out outcomes (`true`: the best entry was the right one)
    /// plus the prior's pseudo-outcomes. With too few outcomes, or if the fit does not settle,
    /// the prior is returned.
    pub fn fit(prior: Calibration, outcomes: &[(Evidence, bool)]) -> Calibration {
        if outcomes.len() < MIN_OUTCOMES {
            return prior;
        }
        let cells = (PRIOR_SCORES.len() * PRIOR_LEADS.len()) as f64;
        let pseudo = PRIOR_SCORES.iter().flat_map(|&score| {
            PRIOR_LEADS.iter().map(move |&lead| {
                let evidence = Evidence { score, lead };
                (evidence, f64::from(prior.confidence(evidence)), PRIOR_WEIGHT / cells)
            })
        });
        let observed = outcomes.iter().map(|&(evidence, right)| (evidence, if right { 1.0 } else { 0.0 }, 1.0));
        let samples: Vec<(Evidence, f64, f64)> = pseudo.chain(observed).collect();

        let mut w = prior.weights();
        for _ in 0..NEWTON_STEPS {
            let mut gradient = w.map(|wi| RIDGE * wi);
            let mut hessian = [[0.0; 3]; 3];
            for (i, row) in hessian.iter_mut().enumerate() {
                row[i] = RIDGE;
            }
            for (evidence, target, weight) in &samples {
                let x = evidence.features();
                let z: f64 = (0..3).map(|i| w[i] * x[i]).sum();
                let p = 1.0 / (1.0 + (-z).exp());
                for i in 0..3 {
                    gradient[i] += weight * (p - target) * x[i];
                    for j in 0..3 {
                        hessian[i][j] += weight * p * (1.0 - p) * x[i] * x[j];
                    }
                }
            }
            let Some(step) = solve3(hessian, gradient) else { return prior };
            let longest = step.iter().map(|s| s.abs()).fold(0.0, f64::max);
            let scale = if longest > MAX_STEP { MAX_STEP / longest } else { 1.0 };
            for i in 0..3 {
                w[i] -= scale * step[i];
            }
            if longest < 1e-6 {
                break;
            }
        }
        if w.iter().all(|v| v.is_finite()) { Calibration { score_weight: w[0], lead_weight: w[1], bias: w[2] } } else { prior }
    }
}

/// Solves a 3×3 linear system by Gaussian elimination with partial pivoting.
fn solve3(mut a: [[f64; 3]; 3], mut b: [f64; 3]) -> Option<[f64; 3]> {
    for col in 0..3 {
        let pivot = (col..3).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..3 {
            let f = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (k, v) in a[row].iter_mut().enumerate().skip(col) {
                *v -= f * pivot_row[k];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; 3];
    for row in (0..3).rev() {
        let rest: f64 = (row + 1..3).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - rest) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(score: f32, lead: f32) -> Evidence {
        Evidence { score, lead }
    }

    #[test]
    fn the_prior_grows_with_the_score_and_the_lead() {
        let c = Calibration::MEANING;
        assert!((c.confidence(ev(0.8, 0.15)) - 0.5).abs() < 0.01);
        assert!(c.confidence(ev(0.95, 0.45)) > 0.95);
        assert!(c.confidence(ev(0.9, 0.01)) < c.confidence(ev(0.9, 0.3)), "a near-tie is less sure");
        assert!(c.confidence(ev(0.3, 0.2)) < 0.1, "a weak match stays weak even alone");
        for (s, l) in [(-1.0, 2.0), (2.0, 3.0), (0.0, 0.0)] {
            assert!((0.0..=1.0).contains(&c.confidence(ev(s, l))));
        }
    }

    #[test]
    fn too_few_outcomes_keep_the_prior() {
        assert_eq!(Calibration::fit(Calibration::MEANING, &[]), Calibration::MEANING);
        let few = vec![(ev(0.5, 0.5), true); MIN_OUTCOMES - 1];
        assert_eq!(Calibration::fit(Calibration::WORDS, &few), Calibration::WORDS);
    }

    #[test]
    fn outcomes_that_agree_with_the_prior_keep_it() {
        // Outcomes drawn to match the prior's own judgement: the fit must land back on it.
        let mut outcomes = Vec::new();
        for s in 0..20 {
            for l in 0..10 {
                let e = ev(0.5 + s as f32 * 0.025, l as f32 * 0.03);
                let p = Calibration::MEANING.confidence(e);
                for k in 0..20 {
                    outcomes.push((e, (k as f32 + 0.5) / 20.0 < p));
                }
            }
        }
        let fitted = Calibration::fit(Calibration::MEANING, &outcomes);
        for (s, l) in [(0.6, 0.0), (0.8, 0.1), (0.95, 0.3)] {
            assert!((fitted.confidence(ev(s, l)) - Calibration::MEANING.confidence(ev(s, l))).abs() < 0.03, "{fitted:?}");
        }
    }

    #[test]
    fn the_fit_learns_where_answers_stop_being_right() {
        // An FAQ whose right answers all score above 0.93 and whose wrong ones score 0.80–0.92:
        // the prior would answer many of the wrong ones; the fit must not.
        let mut outcomes = Vec::new();
        for i in 0..200 {
            let t = i as f32 / 200.0;
            outcomes.push((ev(0.93 + 0.07 * t, 0.1), true));
            outcomes.push((ev(0.80 + 0.12 * t, 0.1), false));
        }
        let fitted = Calibration::fit(Calibration::MEANING, &outcomes);
        assert!(Calibration::MEANING.confidence(ev(0.88, 0.1)) > 0.5);
        assert!(fitted.confidence(ev(0.88, 0.1)) < 0.3, "{fitted:?}");
        assert!(fitted.confidence(ev(0.97, 0.1)) > 0.85, "{fitted:?}");
    }

    #[test]
    fn a_few_outcomes_barely_move_the_prior() {
        let mut outcomes = vec![(ev(0.8, 0.1), false), (ev(0.82, 0.05), false)];
        // Enough to be fitted, all saying what the prior says about sure matches.
        outcomes.extend(std::iter::repeat_n((ev(1.0, 0.5), true), MIN_OUTCOMES));
        let fitted = Calibration::fit(Calibration::MEANING, &outcomes);
        let (before, after) = (Calibration::MEANING.confidence(ev(0.8, 0.1)), fitted.confidence(ev(0.8, 0.1)));
        assert!(after < before && before - after < 0.15, "{before} → {after}");
    }

    #[test]
    fn fitted_confidences_match_observed_frequencies() {
        // Outcomes right with probability 0.9 at one point and 0.2 at another.
        let mut outcomes = Vec::new();
        for i in 0..1000 {
            outcomes.push((ev(0.95, 0.2), i % 10 != 0));
            outcomes.push((ev(0.75, 0.02), i % 5 == 0));
        }
        let fitted = Calibration::fit(Calibration::MEANING, &outcomes);
        assert!((fitted.confidence(ev(0.95, 0.2)) - 0.9).abs() < 0.03, "{fitted:?}");
        assert!((fitted.confidence(ev(0.75, 0.02)) - 0.2).abs() < 0.03, "{fitted:?}");
    }

    #[test]
    fn solving_a_known_system() {
        let x = solve3([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]], [3.0, 5.0, 5.0]).unwrap();
        for (got, want) in x.iter().zip([1.0, 1.0, 1.0]) {
            assert!((got - want).abs() < 1e-9);
        }
        assert!(solve3([[0.0; 3]; 3], [1.0; 3]).is_none());
    }
}
