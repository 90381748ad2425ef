//! Checker of [`theorems/adamw-schedules.md`](../../../theorems/adamw-schedules.md): the
//! schedule multiplier η_t of Algorithm 2 (fixed, step-drop, cosine annealing, warm
//! restarts) multiplies both the Adam step and the decoupled decay in line 12.
//!
//! * witnesses: for each schedule, `optim::adamw` equals line 12 written out with the
//!   closed-form η_t (`theory::adaptive::slide_adamw`, decay placed as the `[statement]`
//!   says), and with a zero gradient θ_t = Π_s(1 − η_sλ)θ₀ (or Π(1 − λ) when the statement
//!   leaves η_t off the decay);
//! * checks: `Schedule::multiplier` equals an independent closed form (SGDR eq. (5) with the
//!   `[statement]`'s T_cur, step-drop factor^k).

use crate::claims::common::trajectory::{max_dist, trajectory};
use crate::claims::{
    CheckContext, CheckError, Checker, Evidence, Figure, Measurement, Relation, Series, Style,
};
use crate::optim::adamw::AdamWConfig;
use crate::optim::schedule::Schedule;
use crate::prec::{trajectory_rel, UNIT_ROUNDOFF};
use crate::theory::adaptive::{sgdr, slide_adamw, SlideAdamW};
use nalgebra::DVector;

/// The checker.
pub const CHECKER: Checker = Checker {
    id: "adamw-schedules",
    run,
};

/// An independently written schedule multiplier t ↦ η_t.
type Multiplier = Box<dyn Fn(u64) -> f64>;

fn run(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let alpha = ctx.f64("alpha")?;
    let lambda = ctx.f64("lambda")?;
    let steps = ctx.usize("steps")?;
    let spe = ctx.u64("steps_per_epoch")?;
    let h = DVector::from_vec(ctx.f64s("curvatures")?);
    let star = DVector::from_vec(ctx.f64s("minimizer")?);
    let x0 = DVector::from_vec(ctx.f64s("x0")?);
    let decay_times_eta = ctx.stmt_bool("decay_times_eta")?;
    // SGDR's T_cur = t − offset: completed steps (offset 1) or counting the current one (0).
    let offset = ctx.stmt_usize("t_cur_offset")? as u64;
    let u = UNIT_ROUNDOFF;
    let n = h.len();
    let t0 = (steps as u64 / 7).max(1);
    let tmax = steps as u64 - 10;
    // sgdr takes T_cur + 1; shift by 1 − offset.
    let shift = 1 - offset;
    let schedules: Vec<(&str, Schedule, Multiplier)> = vec![
        ("fixed", Schedule::constant(1.0), Box::new(|_| 1.0)),
        (
            "step-drop",
            Schedule::StepDrop {
                steps_per_epoch: spe,
                drop_epochs: vec![3, 6, 8],
                factor: 0.1,
            },
            Box::new(move |t| {
                let e = (t - 1) / spe;
                0.1f64.powf([3, 6, 8].iter().filter(|&&d| d <= e).count() as f64)
            }),
        ),
        (
            "cosine",
            Schedule::CosineAnnealing {
                t_max: tmax,
                eta_min: 0.0,
                eta_max: 1.0,
            },
            Box::new(move |t| sgdr(t + shift, tmax, 1, 0.0, 1.0, false)),
        ),
        (
            "warm restarts",
            Schedule::WarmRestarts {
                t_0: t0,
                t_mult: 2,
                eta_min: 0.0,
                eta_max: 1.0,
            },
            Box::new(move |t| sgdr(t + shift, t0, 2, 0.0, 1.0, true)),
        ),
    ];
    let grad = move |x: &DVector<f64>| DVector::from_fn(n, |i, _| h[i] * (x[i] - star[i]));
    let zero = move |x: &DVector<f64>| DVector::zeros(x.len());
    let variant = SlideAdamW {
        decay_times_eta,
        ..SlideAdamW::PAPER
    };
    // Same real numbers, different operation order, non-expansive map: trajectory_rel(T)·4·‖θ₀‖∞.
    let tol = trajectory_rel(steps) * 4.0 * x0.amax();
    let (mut eta_dev, mut traj_dev, mut decay_dev) = (0.0_f64, 0.0_f64, 0.0_f64);
    let mut eta_series = Vec::new();
    let mut decay_series = Vec::new();
    let ts: Vec<f64> = (1..=steps).map(|t| t as f64).collect();
    let mut ev = Evidence::new();
    for (name, sched, eta) in &schedules {
        // η_t: the crate's schedule vs the closed form (cos is faithfully rounded: 8u).
        let dev = (1..=steps as u64)
            .map(|t| (sched.multiplier(t) - eta(t)).abs())
            .fold(0.0, f64::max);
        eta_dev = eta_dev.max(dev);
        let a = trajectory(
            AdamWConfig::paper(alpha, lambda, sched.clone()).build()?,
            &x0,
            &grad,
            steps,
        )?;
        let b = slide_adamw(&x0, &grad, alpha, lambda, &|t| eta(t), steps, variant);
        traj_dev = traj_dev.max(max_dist(&a, &b) / tol);
        // Zero gradient: Adam's step is 0 and line 12 reduces to θ_t = (1 − η_tλ)θ_{t−1}.
        let z = trajectory(
            AdamWConfig::paper(alpha, lambda, sched.clone()).build()?,
            &x0,
            &zero,
            steps,
        )?;
        let mut prod = 1.0;
        let mut curve = Vec::new();
        for (t, zt) in z.iter().enumerate().skip(1) {
            prod *= 1.0 - if decay_times_eta { eta(t as u64) } else { 1.0 } * lambda;
            decay_dev = decay_dev.max((zt[0] - prod * x0[0]).abs() / (x0[0].abs() * trajectory_rel(t)));
            curve.push(zt[0].abs());
        }
        eta_series.push(Series {
            label: (*name).into(),
            style: Style::Line,
            x: ts.clone(),
            y: (1..=steps as u64).map(|t| sched.multiplier(t)).collect(),
        });
        decay_series.push(Series {
            label: (*name).into(),
            style: Style::Line,
            x: ts.clone(),
            y: curve,
        });
        ev.instances += 3;
    }
    let names: Vec<&str> = schedules.iter().map(|s| s.0).collect();
    let decay_words = if decay_times_eta {
        "η_t(α m̂/(√v̂+ε) + λθ)"
    } else {
        "η_t α m̂/(√v̂+ε) + λθ"
    };
    ev.push(
        Measurement::new(
            format!("optim::adamw vs line 12 written out as θ − {decay_words}: max distance ÷ tolerance"),
            traj_dev,
            1.0,
            Relation::AtMost,
        )
        .with_note(format!(
            "schedules {names:?}; tolerance trajectory_rel(T)·4·‖θ₀‖∞"
        ))
        .witness()
        .key(),
    );
    ev.push(
        Measurement::new(
            format!(
                "zero gradient: max |θ_t − Π(1 − {}λ)θ₀| ÷ (|θ₀|·trajectory_rel(t))",
                if decay_times_eta { "η_s" } else { "" }
            ),
            decay_dev,
            1.0,
            Relation::AtMost,
        )
        .with_note("the decay follows the schedule and stops where η_t = 0")
        .witness()
        .key(),
    );
    ev.push(
        Measurement::new(
            format!("max |Schedule::multiplier(t) − closed form| (SGDR eq. (5) with T_cur = t − {offset})"),
            eta_dev,
            8.0 * u,
            Relation::AtMost,
        )
        .with_note("cos is faithfully rounded: 8u"),
    );
    ev.figures.push(Figure {
        id: "multipliers".into(),
        title: "Schedule multipliers η_t".into(),
        x_label: "t".into(),
        y_label: "η_t".into(),
        log_x: false,
        log_y: false,
        series: eta_series,
        caption: "SGDR eq. (5) with T_cur = t − 1 completed steps.".into(),
    });
    ev.figures.push(Figure {
        id: "scheduled-decay".into(),
        title: format!("AdamW with zero gradient, λ = {lambda}"),
        x_label: "t".into(),
        y_label: "|θ_t|".into(),
        log_x: false,
        log_y: true,
        series: decay_series,
        caption: "The decoupled decay follows the schedule: it stops where η_t = 0.".into(),
    });
    Ok(ev)
}
