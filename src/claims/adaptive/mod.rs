//! # Adaptive methods: AdaGrad, RMSProp, AdaDelta, Adam, AdamW (claims.md 10–13)
//!
//! One checker per card, `theorems/<id>.md` ↔ `<id with _>.rs`:
//!
//! | card | kind | claim |
//! |---|---|---|
//! | [`adagrad_definition`] | identity | B_k = (Σ g²)^{1/2} vs "diagonal of the square root of the sum of outer products" |
//! | [`rmsprop_as_printed`] | counterexample | γ ∈ [0, 1] (γ = 1 freezes B = 0), ε inside the root vs PyTorch |
//! | [`adadelta_as_printed`] | identity | the slide: AdaDelta's stepsize from an average of θ^(k) − θ^(k−1) |
//! | [`adadelta_units`] | source-claim | Zeiler §3.2: the update has the units of x |
//! | [`adam_bias_correction`] | identity | m̂_t = g, v̂_t = g² for a constant gradient |
//! | [`adam_defaults`] | identity | α = 0.001, β₁ = 0.9, β₂ = 0.999, ε = 1e-8, against the frameworks' recorded runs |
//! | [`adam_effective_step`] | source-claim | Kingma & Ba §2.1: \|Δ_t\| ≤ α(1−β₁)/√(1−β₂) or ≤ α |
//! | [`adam_scale_invariance`] | source-claim | Kingma & Ba §2.1: Δ_t invariant to g → cg |
//! | [`adamw_as_printed`] | counterexample | the slide's Algorithm 2 (m₀ ← θ, line 6 with λθ) vs the paper's AdamW |
//! | [`adamw_schedules`] | identity | η_t (fixed, step-drop, cosine, warm restarts) multiplies both terms of line 12 |
//!
//! Shared machinery lives in `theory::adaptive` (reference recursions, the full-matrix root)
//! and `claims::common` (recorded framework runs, trajectories).

pub mod adadelta_as_printed;
pub mod adadelta_units;
pub mod adagrad_definition;
pub mod adam_bias_correction;
pub mod adam_defaults;
pub mod adam_effective_step;
pub mod adam_scale_invariance;
pub mod adamw_as_printed;
pub mod adamw_schedules;
pub mod rmsprop_as_printed;

use super::Checker;

/// The checkers of this area, in registry order.
pub fn checkers() -> Vec<Checker> {
    vec![
        adagrad_definition::CHECKER,
        rmsprop_as_printed::CHECKER,
        adadelta_as_printed::CHECKER,
        adadelta_units::CHECKER,
        adam_bias_correction::CHECKER,
        adam_defaults::CHECKER,
        adam_effective_step::CHECKER,
        adam_scale_invariance::CHECKER,
        adamw_as_printed::CHECKER,
        adamw_schedules::CHECKER,
    ]
}
