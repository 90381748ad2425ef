//! Checker of [`theorems/adagrad-definition.md`](../../../theorems/adagrad-definition.md):
//! the slide's formula B_k(i,i) = (Σ_{j≤k} g_j(i)²)^{1/2} against its prose "the diagonal of
//! the square-root of the sum of prior gradient outer-products".
//!
//! * witness: the prose's diag((Σ g gᵀ)^{1/2}) equals the formula's (diag Σ g gᵀ)^{1/2}, on
//!   random gradient sequences and on the rank-one instance g = (1, 1);
//! * checks: the eigensolver reproduces the rank-one closed form, Cauchy–Schwarz
//!   (G^{1/2})_ii ≤ √G_ii on every instance, and the corrected statement — the formula with
//!   the `[statement]`'s exponent and index range — reproduces PyTorch's recorded Adagrad
//!   steps (an implementation independent of this crate).

use crate::claims::common::golden::{golden, replay};
use crate::claims::{CheckContext, CheckError, Checker, Counterexample, Evidence, Measurement, Relation};
use crate::prec::{gamma, UNIT_ROUNDOFF};
use crate::theory::adaptive::psd_sqrt;
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The checker.
pub const CHECKER: Checker = Checker {
    id: "adagrad-definition",
    run,
};

fn run(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let dims = ctx.usizes("dims")?;
    let ks = ctx.usizes("steps")?;
    let seeds = ctx.usizes("seeds")?;
    let exponent = ctx.stmt_f64("exponent")?;
    let includes_current = ctx.stmt_bool("includes_current")?;
    let u = UNIT_ROUNDOFF;

    // Random instances: the prose's diagonal of the matrix root against the formula.
    let mut instances = 0_u64;
    let mut prose_gap = 0.0_f64; // max (√G_ii − (G^{1/2})_ii) / tol
    let mut prose_gap_rel = 0.0_f64;
    let mut cauchy_schwarz = 0.0_f64; // max ((G^{1/2})_ii − √G_ii) / tol
    for &d in &dims {
        for &k in &ks {
            for &seed in &seeds {
                let mut rng = ChaCha8Rng::seed_from_u64(((seed as u64) << 16) ^ ((d as u64) << 8) ^ k as u64);
                let mut outer = DMatrix::zeros(d, d);
                for _ in 0..k {
                    let g: DVector<f64> = DVector::from_fn(d, |_, _| StandardNormal.sample(&mut rng));
                    outer += &g * g.transpose();
                }
                let root = psd_sqrt(&outer);
                // The matrix square root is ½-Hölder (‖A^{1/2} − B^{1/2}‖ ≤ ‖A − B‖^{1/2}) and
                // the eigensolver's backward error is ≲ 64·d·u·‖G‖: entries are known to
                // √(64 d u ‖G‖).
                let tol = (64.0 * d as f64 * u * outer.norm()).sqrt();
                for i in 0..d {
                    let formula = outer[(i, i)].sqrt();
                    let prose = root[(i, i)];
                    prose_gap = prose_gap.max((formula - prose) / tol);
                    prose_gap_rel = prose_gap_rel.max((formula - prose) / formula);
                    cauchy_schwarz = cauchy_schwarz.max((prose - formula) / tol);
                }
                instances += 1;
            }
        }
    }

    // The rank-one instance g = (1, 1): G^{1/2} = G/‖g‖, diagonal 1/√2; the formula gives 1.
    let g = DVector::from_vec(vec![1.0, 1.0]);
    let g11 = &g * g.transpose();
    let prose11 = psd_sqrt(&g11)[(0, 0)];
    let tol11 = (64.0 * 2.0 * u * g11.norm()).sqrt();

    // The corrected statement against PyTorch's recorded Adagrad (lr from the header, ε = 1e-10,
    // initial accumulator 0, no lr decay: torch.optim.Adagrad's defaults). Each predicted step
    // −lr·g_k/((Σ g²)^p + ε) is a sum of ≤ T squares (γ_T), a power and a division on each
    // side: 2γ_{T+4} relative to the step.
    let mut replays = Vec::new();
    for name in ["torch-adagrad-default-quad", "torch-adagrad-default-randn"] {
        let trace = golden(name)?;
        let lr = trace.hyper(&["lr"]).unwrap_or(0.01);
        let eps = 1e-10;
        let rel = 2.0 * gamma(trace.steps.len() + 4);
        let mut sums = vec![0.0_f64; trace.header.params0.len()];
        let fit = replay(&trace, rel, |_, grad| {
            grad.iter()
                .enumerate()
                .map(|(i, &gi)| {
                    let before = sums[i];
                    sums[i] += gi * gi;
                    let s = if includes_current { sums[i] } else { before };
                    let d = -lr * gi / (s.powf(exponent) + eps);
                    (d, d.abs())
                })
                .collect()
        });
        replays.push((name, fit));
    }

    let mut ev = Evidence::new();
    ev.instances = instances + 1 + replays.len() as u64;
    ev.push(
        Measurement::new(
            "g = (1,1): diagonal of the matrix root (the prose) vs the formula's B₁(1,1) = 1",
            prose11,
            1.0,
            Relation::Approx { rel_tol: tol11 },
        )
        .with_note("rank one: G^{1/2} = ggᵀ/‖g‖, so the prose gives g_i²/‖g‖ = 1/√2")
        .witness()
        .key(),
    );
    ev.push(
        Measurement::new(
            format!("{instances} random sequences: max (√G_ii − (G^{{1/2}})_ii) ÷ tolerance"),
            prose_gap,
            1.0,
            Relation::AtMost,
        )
        .with_note(format!(
            "the prose asserts equality; tolerance √(64 d u ‖G‖); largest relative gap {prose_gap_rel:.3}"
        ))
        .witness(),
    );
    ev.push(
        Measurement::new(
            "g = (1,1): eigensolver vs closed form 1/√2",
            prose11,
            std::f64::consts::FRAC_1_SQRT_2,
            Relation::Approx { rel_tol: tol11 },
        )
        .with_note("tolerance √(64·d·u·‖G‖)"),
    );
    ev.push(
        Measurement::new(
            "max ((G^{1/2})_ii − √G_ii) ÷ tolerance over the random sequences",
            cauchy_schwarz,
            1.0,
            Relation::AtMost,
        )
        .with_note("Cauchy–Schwarz: e_iᵀG^{1/2}e_i ≤ ‖G^{1/2}e_i‖ = √G_ii"),
    );
    for (name, fit) in &replays {
        ev.push(
            Measurement::new(
                format!("{name}: max |recorded step − formula step| ÷ tolerance"),
                fit.worst,
                1.0,
                Relation::AtMost,
            )
            .with_note(format!(
                "formula with exponent {exponent} and j ≤ {}; {} steps×coordinates; largest relative difference {:.2e}",
                if includes_current { "k" } else { "k − 1" },
                fit.compared,
                fit.worst_rel
            ))
            .key(),
        );
    }
    if ev.witness_found() {
        ev.counterexample = Some(Counterexample {
            description: "One gradient g = (1, 1) in ℝ²: Σggᵀ = [[1,1],[1,1]], its square root is [[1,1],[1,1]]/√2 with diagonal 1/√2 ≈ 0.707, while the slide's B₁(i,i) = (Σ g(i)²)^{1/2} = 1.".into(),
            values: vec![("g1".into(), 1.0), ("g2".into(), 1.0), ("diag sqrt(G)".into(), prose11), ("sqrt diag(G)".into(), 1.0)],
            found_by: "closed form for rank one (g_i²/‖g‖ vs |g_i|); random sequences confirm".into(),
        });
        ev.corrected_statement = Some("B_k is the square root of the diagonal of the sum of outer products, B_k = diag(Σ_{j≤k} g_j g_jᵀ)^{1/2} (Duchi, Hazan & Singer 2011, diagonal AdaGrad: H_t = δI + diag(G_t)^{1/2}) — the slide's formula; the diagonal of the matrix square root G_t^{1/2} (full-matrix AdaGrad's preconditioner) is ≤ it entrywise and differs unless G is diagonal. The sum includes the current gradient (j = k), not only prior ones; PyTorch's Adagrad takes exactly these steps.".into());
    }
    Ok(ev)
}
