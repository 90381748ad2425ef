//! Checker of [`theorems/adadelta-units.md`](../../../theorems/adadelta-units.md) (a
//! source-claim: Zeiler 2012 §3.2, not printed on the slide): AdaDelta's update "has the
//! units of x", i.e. is covariant under x → s·x.
//!
//! * witnesses: Algorithm 1 as printed in the source (one ε in both roots) run on f and on
//!   f̃(y) = f(y/s): y_t/s = x_t, and the step-1 exponent p (Δy₁ = s^p Δx₁) is 1;
//! * checks: the split-ε transcription equals `optim::adadelta` bit for bit; the corrected
//!   statement — ε_num scaled by s^a, ε_den by s^b with the `[statement]`'s (a, b) — is
//!   covariant (bit for bit for s = 2^k, to rounding otherwise, exponent 1); SGD's step-1
//!   exponent is the `[statement]`'s, AdaGrad's (ε → 0) is 0.

use crate::claims::{CheckContext, CheckError, Checker, Counterexample, Evidence, Measurement, Relation};
use crate::optim::adadelta::AdaDeltaConfig;
use crate::optim::Optimizer;
use crate::prec::trajectory_rel;
use nalgebra::DVector;

/// The checker.
pub const CHECKER: Checker = Checker {
    id: "adadelta-units",
    run,
};

/// Zeiler Algorithm 1 with separate ε in the numerator (units of x²) and denominator (units
/// of g²); same operation order as `optim::adadelta`.
fn adadelta_split(
    x0: f64,
    grad: &dyn Fn(f64) -> f64,
    rho: f64,
    eps_num: f64,
    eps_den: f64,
    steps: usize,
) -> Vec<f64> {
    let (mut eg, mut ed, mut x) = (0.0, 0.0, x0);
    let mut out = vec![x];
    for _ in 0..steps {
        let g = grad(x);
        eg = rho * eg + (1.0 - rho) * g * g;
        let rms_delta = (ed + eps_num).sqrt();
        let rms_grad = (eg + eps_den).sqrt();
        let delta = -(rms_delta / rms_grad) * g;
        ed = rho * ed + (1.0 - rho) * delta * delta;
        x += 1.0 * delta;
        out.push(x);
    }
    out
}

fn run(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let (h, x0, steps) = (ctx.f64("curvature")?, ctx.f64("x0")?, ctx.usize("steps")?);
    let scales = ctx.f64s("scales")?;
    let num_units = ctx.stmt_f64("eps_num_units")?;
    let den_units = ctx.stmt_f64("eps_den_units")?;
    let sgd_exponent = ctx.stmt_f64("sgd_exponent")?;
    let cfg = AdaDeltaConfig::paper();
    let (rho, eps) = (cfg.rho, cfg.eps);
    // f(x) = h x²/2; f̃(y) = f(y/s) has gradient h y/s².
    let gx = |x: f64| h * x;
    let mine = adadelta_split(x0, &gx, rho, eps, eps, steps);
    let mut o = cfg.build()?;
    let mut xv = DVector::from_element(1, x0);
    let mut differ = 0_u32;
    for k in 0..steps {
        let g = DVector::from_element(1, gx(xv[0]));
        o.step(&mut xv, &g)?;
        differ += u32::from(xv[0].to_bits() != mine[k + 1].to_bits());
    }
    let mut ev = Evidence::new();
    ev.push(Measurement::new(
        "split-ε transcription vs optim::adadelta (ε_num = ε_den): steps that differ in any bit",
        f64::from(differ),
        0.0,
        Relation::Exact,
    ));
    let exponent = |dy: f64, dx: f64, s: f64| (dy / dx).abs().ln() / s.ln();
    let mut fixed_dev = 0.0_f64;
    let mut split_dev = 0.0_f64;
    let mut pow2_bits_differ = 0_u32;
    let dx = mine[1] - mine[0];
    // (distance from 1, exponent) of the single-ε run's step-1 exponent farthest from 1.
    let mut p_fix_far = (0.0_f64, 1.0_f64);
    let (mut p_split_worst, mut p_sgd_worst, mut p_ada_worst) = (0.0_f64, 0.0_f64, 0.0_f64);
    for &s in &scales {
        let gy = |y: f64| h * y / (s * s);
        let fixed = adadelta_split(s * x0, &gy, rho, eps, eps, steps);
        let split = adadelta_split(
            s * x0,
            &gy,
            rho,
            eps * s.powf(num_units),
            eps * s.powf(den_units),
            steps,
        );
        let dev = |tr: &Vec<f64>| {
            tr.iter()
                .zip(&mine)
                .map(|(y, x)| (y / s - x).abs() / x0.abs())
                .fold(0.0, f64::max)
        };
        fixed_dev = fixed_dev.max(dev(&fixed));
        split_dev = split_dev.max(dev(&split));
        if s.log2().fract() == 0.0 {
            // Scaling by 2^k is exact only for normal numbers: compare while |x_t| > 1e-100,
            // so g², Δx² (≥ 1e-200·s^{±4}, s ≤ 2^20) stay far above the subnormal range.
            pow2_bits_differ += split
                .iter()
                .zip(&mine)
                .take_while(|(_, x)| x.abs() > 1e-100)
                .filter(|(y, x)| (*y / s).to_bits() != x.to_bits())
                .count() as u32;
        }
        if s != 1.0 {
            let sgd = |g: f64| -0.1 * g;
            let adagrad = |g: f64| -0.1 * g / (g * g).sqrt();
            let p_fix = exponent(fixed[1] - fixed[0], dx, s);
            if (p_fix - 1.0).abs() >= p_fix_far.0 || p_fix.is_nan() {
                p_fix_far = ((p_fix - 1.0).abs(), p_fix);
            }
            let p_split = exponent(split[1] - split[0], dx, s);
            p_split_worst = p_split_worst.max((p_split - 1.0).abs());
            p_sgd_worst = p_sgd_worst.max((exponent(sgd(gy(s * x0)), sgd(gx(x0)), s) - sgd_exponent).abs());
            p_ada_worst = p_ada_worst.max(exponent(adagrad(gy(s * x0)), adagrad(gx(x0)), s).abs());
        }
        ev.instances += 1;
    }
    // Rounding of the split run for non-powers of two: per step a few u on a non-expansive
    // map, trajectory_rel(T)·4 relative to |x₀|.
    let split_tol = trajectory_rel(steps) * 4.0;
    ev.push(
        Measurement::new(
            "Algorithm 1 (one ε): max_t |y_t/s − x_t| / |x₀| over the scales",
            fixed_dev,
            split_tol,
            Relation::AtMost,
        )
        .with_note("the source's units argument asserts covariance; tolerance trajectory_rel(T)·4")
        .witness()
        .key(),
    );
    ev.push(
        Measurement::new(
            "Algorithm 1 (one ε): step-1 exponent p (Δy₁ = s^p Δx₁) farthest from 1",
            p_fix_far.1,
            1.0,
            Relation::Approx { rel_tol: 0.05 },
        )
        .with_note("covariance needs p = 1; the first step is ≈ √(ε/(1−ρ))·sign(g): units of √ε, p ≈ 0")
        .witness(),
    );
    ev.push(
        Measurement::new(
            format!("ε scaled by s^{num_units} over Δx², s^{den_units} under g²: max_t |y_t/s − x_t| / |x₀|"),
            split_dev,
            split_tol,
            Relation::AtMost,
        )
        .with_note("covariant to rounding (trajectory_rel(T)·4)")
        .key(),
    );
    ev.push(
        Measurement::new(
            "the same, s = 2^k: iterates that differ from s·x_t in any bit (while |x_t| > 1e-100)",
            f64::from(pow2_bits_differ),
            0.0,
            Relation::Exact,
        )
        .with_note("every operation scales exactly by a power of two"),
    );
    ev.push(
        Measurement::new(
            "the same: max |step-1 exponent − 1|",
            p_split_worst,
            1e-9,
            Relation::AtMost,
        )
        .with_note("a ratio of logs of exactly scaled numbers: 1e-9 covers the log's rounding"),
    );
    ev.push(
        Measurement::new(
            format!("SGD: max |step-1 exponent − ({sgd_exponent})|"),
            p_sgd_worst,
            1e-9,
            Relation::AtMost,
        )
        .with_note("Δx = −ηg has the units of 1/x"),
    );
    ev.push(
        Measurement::new(
            "AdaGrad/RMSProp/Adam (ε → 0): max |step-1 exponent|",
            p_ada_worst,
            1e-9,
            Relation::AtMost,
        )
        .with_note("g/√(g²) is unitless"),
    );
    if ev.witness_found() {
        ev.counterexample = Some(Counterexample {
            description: format!("f(x) = {h}x²/2, x₀ = {x0}, ρ = {rho}, ε = {eps}; rescaled f̃(y) = f(y/s): the first AdaDelta step is −√ε/√((1−ρ)g̃² + ε)·g̃ ≈ −√(ε/(1−ρ))·sign(g), the same in x and y units, so y₁/s ≠ x₁."),
            values: vec![("curvature".into(), h), ("x0".into(), x0), ("rho".into(), rho), ("eps".into(), eps)],
            found_by: "closed form of step 1; runs over the scales s".into(),
        });
        ev.corrected_statement = Some("The ratio RMS[Δx]_{t−1}/RMS[g]_t has the units of x/g, so Zeiler's update (14) has the units of x *provided the two ε carry units*: adding s²ε to E[Δx²] and ε/s² to E[g²] makes AdaDelta exactly covariant under x → sx (bit for bit for s = 2^k). With one ε in both roots (Algorithm 1 as printed) the covariance is only approximate, once E[Δx²] ≫ ε and E[g²] ≫ ε; the first steps have the units of √ε. SGD's step scales as s⁻¹ and AdaGrad/RMSProp/Adam steps are unitless (s⁰).".into());
    }
    Ok(ev)
}
