//! # Schedule multipliers η_t
//!
//! The schedule multiplier of Loshchilov & Hutter (2019), Algorithm 2 line 11,
//! `η_t ← SetScheduleMultiplier(t)`: a dimensionless factor that scales the whole step (and, in
//! AdamW, the decoupled weight decay). "It can be fixed, decay, or also be used for warm
//! restarts" (the comment beside line 11). The four shapes used in their experiments:
//!
//! * fixed: $\eta_t = c$;
//! * step-drop: $\eta_t = f^{k}$ where $k$ is the number of drop epochs already reached
//!   (their Figure 1 drops at epochs 30, 60 and 80);
//! * cosine annealing, SGDR eq. (5) without restarts:
//!   $$\eta_t = \eta_{\min} + \tfrac12(\eta_{\max} - \eta_{\min})\bigl(1 + \cos(\pi\\,T_{cur}/T_{\max})\bigr);$$
//! * warm restarts, SGDR eq. (5): the same cosine inside period $i$ of length
//!   $T_i = T_0 T_{mult}^{\\,i}$, with $T_{cur}$ reset to 0 at each restart.
//!
//! | symbol | field |
//! |---|---|
//! | $c$ | `Constant(c)` |
//! | $f$, drop epochs, batches per epoch | `StepDrop { factor, drop_epochs, steps_per_epoch }` |
//! | $T_{\max}$, $\eta_{\min}$, $\eta_{\max}$ | `CosineAnnealing { t_max, eta_min, eta_max }` |
//! | $T_0$, $T_{mult}$, $\eta_{\min}$, $\eta_{\max}$ | `WarmRestarts { t_0, t_mult, eta_min, eta_max }` |
//!
//! ## Which t
//! [`Schedule::multiplier`] takes the step index `t` of Algorithm 2, **counting from 1**: line 4
//! increments `t ← t + 1` before line 11 calls `SetScheduleMultiplier(t)`, so an optimizer
//! passes its own step number unchanged. The number of steps already completed is
//! `T_cur = t − 1` (SGDR sets `T_cur = 0` at the start of a run and just after a restart, so
//! the first step of every period uses η_max). All lengths (`t_max`, `t_0`) are counted in
//! steps: SGDR updates `T_cur` after every batch, i.e. in fractions of an epoch, which is the
//! same curve sampled at the batch boundaries once `T` is expressed in batches. `t = 0` is not
//! a step; it is treated as `t = 1`.
//!
//! ## Conventions
//! * PyTorch `CosineAnnealingLR` continues the cosine past `T_max` (the learning rate rises
//!   again); optax `cosine_decay_schedule` clamps at the end. Here the curve is clamped at
//!   η_min after `T_max` steps, as the paper anneals "to zero" over the budget; use
//!   `WarmRestarts` with `t_mult = 1` for a periodic curve.
//! * PyTorch `CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)` and this `WarmRestarts` agree
//!   at integer step counts: restart k (k ≥ 1) happens after `T_0 (1 + T_mult + … +
//!   T_mult^{k−1})` completed steps.
//! * `StepDrop` is PyTorch `MultiStepLR(milestones, gamma)` with milestones in epochs, and
//!   computes `factor^k` with `powf`, as its closed form `gamma ** bisect_right(milestones,
//!   epoch)` does (the recursive `get_lr` multiplies by gamma at each milestone instead).
//!
//! ## References
//! * I. Loshchilov, F. Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019,
//!   Algorithm 2 line 11 and Figure 1 — <https://arxiv.org/abs/1711.05101>
//! * I. Loshchilov, F. Hutter, *SGDR: Stochastic Gradient Descent with Warm Restarts*,
//!   ICLR 2017, eq. (5) — <https://arxiv.org/abs/1608.03983>

use crate::error::{check, HyperError};
use serde::{Deserialize, Serialize};

/// Name used in hyperparameter errors.
const NAME: &str = "schedule";

/// A schedule multiplier η_t (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Schedule {
    /// η_t = c for every t.
    Constant {
        /// The constant c ≥ 0.
        value: f64,
    },
    /// η_t = factor^k, k = number of entries of `drop_epochs` ≤ the current epoch
    /// `(t − 1) / steps_per_epoch` (epochs counted from 0).
    StepDrop {
        /// Steps (batches) per epoch, ≥ 1.
        steps_per_epoch: u64,
        /// Epoch indices at which η is multiplied by `factor`, strictly increasing.
        drop_epochs: Vec<u64>,
        /// Multiplicative drop, in (0, ∞) (usually 0.1).
        factor: f64,
    },
    /// SGDR eq. (5) with a single period of `t_max` steps, then η_min.
    CosineAnnealing {
        /// Period T_max in steps, ≥ 1.
        t_max: u64,
        /// Lower end η_min ≥ 0.
        eta_min: f64,
        /// Upper end η_max ≥ η_min.
        eta_max: f64,
    },
    /// SGDR eq. (5) with restarts: period i has length T_0 · T_mult^i steps.
    WarmRestarts {
        /// First period T_0 in steps, ≥ 1.
        t_0: u64,
        /// Growth factor of the period, ≥ 1.
        t_mult: u64,
        /// Lower end η_min ≥ 0.
        eta_min: f64,
        /// Upper end η_max ≥ η_min.
        eta_max: f64,
    },
}

impl Default for Schedule {
    /// The fixed multiplier η_t = 1.
    fn default() -> Self {
        Schedule::Constant { value: 1.0 }
    }
}

impl Schedule {
    /// η_t = `value` for every t.
    pub fn constant(value: f64) -> Self {
        Schedule::Constant { value }
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`HyperError::OutOfRange`] / [`HyperError::CountOutOfRange`] naming the field and its
    /// valid range; [`HyperError::Incompatible`] for drop epochs that are not strictly
    /// increasing or η_min > η_max.
    pub fn validate(&self) -> Result<(), HyperError> {
        match self {
            Schedule::Constant { value } => check::non_negative(NAME, "value", *value),
            Schedule::StepDrop {
                steps_per_epoch,
                drop_epochs,
                factor,
            } => {
                count_at_least_one("steps_per_epoch", *steps_per_epoch)?;
                check::positive(NAME, "factor", *factor)?;
                if drop_epochs.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(HyperError::Incompatible {
                        optimizer: NAME,
                        reason: format!("drop_epochs = {drop_epochs:?} must be strictly increasing"),
                    });
                }
                Ok(())
            }
            Schedule::CosineAnnealing {
                t_max,
                eta_min,
                eta_max,
            } => {
                count_at_least_one("t_max", *t_max)?;
                check_eta_range(*eta_min, *eta_max)
            }
            Schedule::WarmRestarts {
                t_0,
                t_mult,
                eta_min,
                eta_max,
            } => {
                count_at_least_one("t_0", *t_0)?;
                count_at_least_one("t_mult", *t_mult)?;
                check_eta_range(*eta_min, *eta_max)
            }
        }
    }

    /// η_t for the step `t` of Algorithm 2 (t counts from 1; see the module documentation).
    pub fn multiplier(&self, t: u64) -> f64 {
        // Completed steps before this one: SGDR's T_cur, in steps.
        let elapsed = t.saturating_sub(1);
        match self {
            Schedule::Constant { value } => *value,
            Schedule::StepDrop {
                steps_per_epoch,
                drop_epochs,
                factor,
            } => {
                let epoch = elapsed / (*steps_per_epoch).max(1);
                let drops = drop_epochs.iter().take_while(|&&e| e <= epoch).count();
                factor.powf(drops as f64)
            }
            Schedule::CosineAnnealing {
                t_max,
                eta_min,
                eta_max,
            } => {
                if elapsed >= *t_max {
                    *eta_min
                } else {
                    sgdr_cosine(elapsed, *t_max, *eta_min, *eta_max)
                }
            }
            Schedule::WarmRestarts {
                t_0,
                t_mult,
                eta_min,
                eta_max,
            } => {
                let (t_cur, t_i) = position_in_period(elapsed, *t_0, *t_mult);
                sgdr_cosine(t_cur, t_i, *eta_min, *eta_max)
            }
        }
    }

    /// The steps (values of t, from 1) at which a warm restart begins a new period, up to and
    /// including `t_last`; empty for the other shapes. The first period starts at t = 1 and
    /// is not listed.
    pub fn restart_steps(&self, t_last: u64) -> Vec<u64> {
        let mut out = Vec::new();
        if let Schedule::WarmRestarts { t_0, t_mult, .. } = self {
            let mut period = (*t_0).max(1);
            let mut start = 0_u64; // completed steps at the start of the period
            loop {
                start = match start.checked_add(period) {
                    Some(s) => s,
                    None => break,
                };
                // The first step of the new period is t = start + 1.
                if start >= t_last {
                    break;
                }
                out.push(start + 1);
                period = period.saturating_mul((*t_mult).max(1));
            }
        }
        out
    }
}

/// SGDR eq. (5): η_min + ½(η_max − η_min)(1 + cos(π T_cur / T_i)).
fn sgdr_cosine(t_cur: u64, t_i: u64, eta_min: f64, eta_max: f64) -> f64 {
    let phase = std::f64::consts::PI * (t_cur as f64 / t_i as f64);
    eta_min + 0.5 * (eta_max - eta_min) * (1.0 + phase.cos())
}

/// (T_cur, T_i) after `elapsed` completed steps: T_i = T_0 T_mult^i for the period i that
/// contains the step, T_cur the steps completed inside it. Integer arithmetic, so restart
/// positions are exact (no logarithms); saturates instead of overflowing.
fn position_in_period(elapsed: u64, t_0: u64, t_mult: u64) -> (u64, u64) {
    let t_0 = t_0.max(1);
    if t_mult <= 1 {
        return (elapsed % t_0, t_0);
    }
    let mut remaining = elapsed;
    let mut period = t_0;
    while remaining >= period {
        remaining -= period;
        match period.checked_mul(t_mult) {
            Some(p) => period = p,
            // A period longer than u64::MAX steps contains every remaining step.
            None => return (remaining, u64::MAX),
        }
    }
    (remaining, period)
}

fn count_at_least_one(field: &'static str, value: u64) -> Result<(), HyperError> {
    if value >= 1 {
        Ok(())
    } else {
        Err(HyperError::CountOutOfRange {
            optimizer: NAME,
            field,
            value,
            range: "[1, inf)",
        })
    }
}

fn check_eta_range(eta_min: f64, eta_max: f64) -> Result<(), HyperError> {
    check::non_negative(NAME, "eta_min", eta_min)?;
    check::non_negative(NAME, "eta_max", eta_max)?;
    if eta_min > eta_max {
        return Err(HyperError::Incompatible {
            optimizer: NAME,
            reason: format!("eta_min = {eta_min} exceeds eta_max = {eta_max}"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::ulps_between;

    fn restarts(t_0: u64, t_mult: u64) -> Schedule {
        Schedule::WarmRestarts {
            t_0,
            t_mult,
            eta_min: 0.0,
            eta_max: 1.0,
        }
    }

    #[test]
    fn constant_is_constant_and_one_by_default() {
        let s = Schedule::default();
        assert_eq!(s, Schedule::constant(1.0));
        for t in [0, 1, 2, 1000, u64::MAX] {
            assert_eq!(s.multiplier(t), 1.0);
            assert_eq!(Schedule::constant(0.25).multiplier(t), 0.25);
        }
    }

    #[test]
    fn step_drop_at_epochs_30_60_80() {
        // Loshchilov & Hutter Figure 1: drops at epoch indexes 30, 60, 80, factor 0.1.
        let s = Schedule::StepDrop {
            steps_per_epoch: 10,
            drop_epochs: vec![30, 60, 80],
            factor: 0.1,
        };
        s.validate().unwrap();
        // Epoch e covers t = 10e + 1 ..= 10e + 10. Expected values are powf of the same
        // factor, so they are bit-identical by construction of the code path; the literals
        // beside them are within 1 ulp (powf is faithfully rounded).
        let table: [(u64, f64); 9] = [
            (1, 1.0),
            (300, 1.0),   // last step of epoch 29
            (301, 0.1),   // first step of epoch 30
            (600, 0.1),   // last step of epoch 59
            (601, 0.01),  // epoch 60
            (800, 0.01),  // last step of epoch 79
            (801, 0.001), // epoch 80
            (1000, 0.001),
            (10_000, 0.001),
        ];
        for (t, expected) in table {
            let got = s.multiplier(t);
            assert!(ulps_between(got, expected) <= 1, "t = {t}: {got} vs {expected}");
        }
        assert_eq!(s.multiplier(301), 0.1_f64.powf(1.0));
        assert_eq!(s.multiplier(601), 0.1_f64.powf(2.0));
        assert_eq!(s.multiplier(801), 0.1_f64.powf(3.0));
    }

    #[test]
    fn cosine_endpoints_midpoint_and_clamp() {
        let s = Schedule::CosineAnnealing {
            t_max: 100,
            eta_min: 0.0,
            eta_max: 1.0,
        };
        // T_cur = 0: cos 0 = 1 exactly, 0 + 0.5·1·2 = 1 exactly.
        assert_eq!(s.multiplier(1), 1.0);
        // T_cur = 50: cos(π/2) ≈ 6.1e-17 (π is rounded), so η = 0.5 + 3e-17: within 1 ulp of 0.5.
        assert!(ulps_between(s.multiplier(51), 0.5) <= 1);
        // T_cur = 100 = T_max and beyond: clamped to η_min.
        assert_eq!(s.multiplier(101), 0.0);
        assert_eq!(s.multiplier(10_000), 0.0);
        // T_cur = 99: ½(1 + cos(0.99π)) = sin²(0.005π) ≈ 2.467e-4.
        let expected = (0.005 * std::f64::consts::PI).sin().powi(2);
        let got = s.multiplier(100);
        // Both sides are a few correctly/faithfully rounded operations on a value of order
        // 1e-4 obtained from 1 + cos(x) with cos(x) ≈ −1: the cancellation amplifies the
        // rounding of cos (≤ 1 ulp of 1, i.e. 2.2e-16) to a relative 2.2e-16 / 2.5e-4 ≈ 1e-12.
        assert!((got - expected).abs() <= 1e-12 * expected, "{got} vs {expected}");
    }

    #[test]
    fn warm_restarts_t_mult_2_restart_positions() {
        // T_0 = 10, T_mult = 2: periods 10, 20, 40, 80 steps; restarts after 10, 30, 70, 150
        // completed steps, i.e. at t = 11, 31, 71, 151 (T_0, T_0 + 2T_0, T_0 + 2T_0 + 4T_0, ...).
        let s = restarts(10, 2);
        s.validate().unwrap();
        assert_eq!(s.restart_steps(200), vec![11, 31, 71, 151]);
        for &t in &[1_u64, 11, 31, 71, 151] {
            assert_eq!(
                s.multiplier(t),
                1.0,
                "η_max at the start of the period at t = {t}"
            );
        }
        // The step before each restart is the last of its period: T_cur = T_i − 1 > 0, so η
        // is small but positive, and strictly below the restart value.
        for (t, t_i) in [(10_u64, 10_u64), (30, 20), (70, 40), (150, 80)] {
            let eta = s.multiplier(t);
            let expected = 0.5 * (1.0 + (std::f64::consts::PI * ((t_i - 1) as f64 / t_i as f64)).cos());
            assert_eq!(eta, expected, "t = {t}");
            assert!(eta > 0.0 && eta < 0.03, "t = {t}: {eta}");
        }
        // Midpoints of each period: T_cur = T_i / 2 gives 0.5 (to 1 ulp, as above).
        for t in [6_u64, 21, 51, 111] {
            assert!(
                ulps_between(s.multiplier(t), 0.5) <= 1,
                "t = {t}: {}",
                s.multiplier(t)
            );
        }
    }

    #[test]
    fn warm_restarts_t_mult_1_is_periodic_and_matches_cosine_in_first_period() {
        let s = restarts(7, 1);
        let c = Schedule::CosineAnnealing {
            t_max: 7,
            eta_min: 0.0,
            eta_max: 1.0,
        };
        assert_eq!(s.restart_steps(30), vec![8, 15, 22, 29]);
        for t in 1..=7 {
            assert_eq!(s.multiplier(t), c.multiplier(t), "t = {t}");
        }
        for t in 1..=50 {
            assert_eq!(s.multiplier(t), s.multiplier(t + 7), "t = {t}");
        }
    }

    #[test]
    fn monotone_non_increasing_within_each_period() {
        // Argument: the phase π·T_cur/T_i is non-decreasing in T_cur (division and
        // multiplication by positive constants are monotone under rounding) and cos is
        // decreasing on [0, π]; adjacent phases differ by π/T_i ≥ π/1280 here, so cos values
        // differ by at least ~(π/1280)²/2 ≈ 3e-6 ≫ 1 ulp near the ends — the computed values
        // are strictly decreasing.
        for (t_0, t_mult) in [(5_u64, 1_u64), (10, 2), (3, 3), (160, 2)] {
            let s = Schedule::WarmRestarts {
                t_0,
                t_mult,
                eta_min: 0.05,
                eta_max: 0.8,
            };
            let restart_at = s.restart_steps(3000);
            for t in 1..3000_u64 {
                let (a, b) = (s.multiplier(t), s.multiplier(t + 1));
                assert!((0.05..=0.8).contains(&a), "range at t = {t}: {a}");
                if restart_at.contains(&(t + 1)) {
                    assert!(b > a, "restart at t = {}: {a} -> {b}", t + 1);
                } else {
                    assert!(b < a, "T_0={t_0} T_mult={t_mult} t={t}: {a} -> {b}");
                }
            }
        }
    }

    #[test]
    fn restart_value_with_nonzero_eta_min_is_eta_max_to_one_ulp() {
        // η_min + ½(η_max − η_min)·2: the subtraction and the addition each round once.
        let s = Schedule::WarmRestarts {
            t_0: 4,
            t_mult: 2,
            eta_min: 0.1,
            eta_max: 0.7,
        };
        for t in [1_u64, 5, 13, 29] {
            assert!(
                ulps_between(s.multiplier(t), 0.7) <= 2,
                "t = {t}: {}",
                s.multiplier(t)
            );
        }
    }

    #[test]
    fn huge_step_counts_do_not_overflow() {
        let s = restarts(1, 1000);
        let eta = s.multiplier(u64::MAX);
        assert!((0.0..=1.0).contains(&eta));
        assert!(s.restart_steps(u64::MAX).len() <= 7);
    }

    #[test]
    fn validation_table() {
        type Case = (Schedule, &'static str);
        let cases: Vec<Case> = vec![
            (Schedule::constant(f64::NAN), "value"),
            (Schedule::constant(-1.0), "value"),
            (
                Schedule::StepDrop {
                    steps_per_epoch: 0,
                    drop_epochs: vec![1],
                    factor: 0.1,
                },
                "steps_per_epoch",
            ),
            (
                Schedule::StepDrop {
                    steps_per_epoch: 1,
                    drop_epochs: vec![1],
                    factor: 0.0,
                },
                "factor",
            ),
            (
                Schedule::CosineAnnealing {
                    t_max: 0,
                    eta_min: 0.0,
                    eta_max: 1.0,
                },
                "t_max",
            ),
            (
                Schedule::CosineAnnealing {
                    t_max: 5,
                    eta_min: f64::NAN,
                    eta_max: 1.0,
                },
                "eta_min",
            ),
            (
                Schedule::WarmRestarts {
                    t_0: 0,
                    t_mult: 1,
                    eta_min: 0.0,
                    eta_max: 1.0,
                },
                "t_0",
            ),
            (
                Schedule::WarmRestarts {
                    t_0: 1,
                    t_mult: 0,
                    eta_min: 0.0,
                    eta_max: 1.0,
                },
                "t_mult",
            ),
            (
                Schedule::WarmRestarts {
                    t_0: 1,
                    t_mult: 1,
                    eta_min: 0.0,
                    eta_max: f64::INFINITY,
                },
                "eta_max",
            ),
        ];
        for (s, field) in cases {
            match s.validate() {
                Err(HyperError::OutOfRange { field: f, range, .. })
                | Err(HyperError::CountOutOfRange { field: f, range, .. }) => {
                    assert_eq!(f, field, "{s:?}");
                    assert!(!range.is_empty());
                }
                other => panic!("{s:?}: expected an out-of-range error on {field}, got {other:?}"),
            }
        }
        let not_increasing = Schedule::StepDrop {
            steps_per_epoch: 1,
            drop_epochs: vec![30, 30],
            factor: 0.1,
        };
        assert!(matches!(
            not_increasing.validate(),
            Err(HyperError::Incompatible { .. })
        ));
        let inverted = Schedule::CosineAnnealing {
            t_max: 3,
            eta_min: 1.0,
            eta_max: 0.5,
        };
        assert!(matches!(
            inverted.validate(),
            Err(HyperError::Incompatible { .. })
        ));
    }

    #[test]
    fn serde_round_trip() {
        let s = restarts(10, 2);
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"kind\":\"warm-restarts\""), "{json}");
        let back: Schedule = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }
}
