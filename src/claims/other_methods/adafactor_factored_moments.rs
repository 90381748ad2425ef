//! Checker of `theorems/adafactor-factored-moments.md`: Adafactor "reduce[s] the number of
//! gradient step-sizes used in the diagonal scaling to average over rows and/or columns of
//! weight matrices which reduces the memory needed".
//!
//! * **Witnesses** (the statement, with its `[statement]` parameters): (1) an n × m block keeps
//!   n + m + `state_offset` second-moment numbers (the crate's `Adafactor::state_len`), over a
//!   sweep of shapes; (2) the estimate V̂ = R C/1ᵀR (the crate's `Adafactor::v_hat` after one
//!   step, β̂₂₁ = 0) equals V = G² whenever rank V ≤ `exact_rank`; (3) V̂ minimises the
//!   `objective` (Shazeer & Stern §3: the I-divergence) over rank-1 nonnegative matrices: no
//!   perturbation of its factors and not the SVD truncation does better.
//! * **Checks**: V̂ is the product of the row and column *averages* of G² divided by the overall
//!   average (independent computation, the slide's word); the first-order optimality
//!   conditions of the I-divergence at V̂ hold to rounding.
//! * **Context**: Adam's second moment holds n·m numbers for the same block.

use super::*;
use crate::optim::adafactor::{Adafactor, AdafactorConfig};
use crate::optim::layout::Layout;
use crate::optim::Optimizer;
use crate::prec::{gamma, UNIT_ROUNDOFF};
use nalgebra::{DMatrix, DVector};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The checker of `adafactor-factored-moments`.
pub const CHECKER: Checker = Checker {
    id: "adafactor-factored-moments",
    run: check_adafactor,
};

const ID: &str = "adafactor-factored-moments";

/// One Adafactor step (paper preset, t = 1 so β̂₂₁ = 0) on one n × m block with gradient `g`
/// (row-major); returns the optimizer.
fn one_step(rows: usize, cols: usize, g: &DMatrix<f64>) -> Result<Adafactor, CheckError> {
    let mut opt = AdafactorConfig::paper()
        .with_layout(Layout::from_shapes([("w", rows, cols)]))
        .build()?;
    let mut x = DVector::from_element(rows * cols, 0.5);
    let flat = DVector::from_iterator(
        rows * cols,
        (0..rows).flat_map(|i| (0..cols).map(move |j| g[(i, j)])),
    );
    opt.step(&mut x, &flat)?;
    Ok(opt)
}

/// Generalised KL (I-)divergence D(V‖W) = Σ V log(V/W) − V + W, and Σ of |terms| (its
/// rounding scale).
fn i_divergence(v: &DMatrix<f64>, w: &DMatrix<f64>) -> (f64, f64) {
    let mut s = 0.0;
    let mut abs = 0.0;
    for (a, b) in v.iter().zip(w.iter()) {
        let t = a * (a / b).ln() - a + b;
        s += t;
        abs += (a * (a / b).ln()).abs() + a + b;
    }
    (s, abs)
}

fn frobenius(v: &DMatrix<f64>, w: &DMatrix<f64>) -> (f64, f64) {
    let d = (v - w).norm_squared();
    (d, v.norm_squared() + w.norm_squared())
}

/// Random matrix of rank r with positive entries: Σ_k a_k b_kᵀ, a, b uniform on [0.5, 2].
fn positive_rank(n: usize, m: usize, r: usize, rng: &mut ChaCha8Rng) -> DMatrix<f64> {
    let mut v = DMatrix::zeros(n, m);
    for _ in 0..r {
        let a = DVector::from_fn(n, |_, _| 0.5 + 1.5 * rng.random::<f64>());
        let b = DVector::from_fn(m, |_, _| 0.5 + 1.5 * rng.random::<f64>());
        v += &a * b.transpose();
    }
    v
}

fn check_adafactor(ctx: &CheckContext) -> Result<Evidence, CheckError> {
    let state_offset = ctx.stmt_f64("state_offset")?;
    let exact_rank = ctx.stmt_usize("exact_rank")?;
    let objective = ctx.stmt_str("objective")?.to_string();
    let divergence: fn(&DMatrix<f64>, &DMatrix<f64>) -> (f64, f64) = match objective.as_str() {
        "i-divergence" => i_divergence,
        "frobenius" => frobenius,
        other => {
            return Err(bad_statement(
                ID,
                "objective",
                other,
                "\"i-divergence\" or \"frobenius\"",
            ))
        }
    };
    let memory_shapes = ctx.usizes("memory_shapes")?;
    let shapes = ctx.usizes("shapes")?;
    let seeds = ctx.u64("seeds")?;
    let deltas = ctx.f64s("deltas")?;
    let mut ev = Evidence::new();
    let mut instances = 0u64;

    // (1) Memory over a sweep of shapes (pairs in `memory_shapes`).
    let mut mem_x = Vec::new();
    let mut mem_y = Vec::new();
    let mut worst_mem: (f64, f64, String) = (0.0, 0.0, String::new());
    for pair in memory_shapes.chunks(2) {
        let (n, m) = (pair[0], pair[1]);
        let g = DMatrix::from_fn(n, m, |i, j| 1.0 + ((i * 7 + j * 3) % 5) as f64);
        let opt = one_step(n, m, &g)?;
        let held = opt.state_len() as f64;
        let claimed = (n + m) as f64 + state_offset;
        if (held - claimed).abs() >= (worst_mem.0 - worst_mem.1).abs() {
            worst_mem = (held, claimed, format!("{n}×{m}"));
        }
        mem_x.push((n * m) as f64);
        mem_y.push(held);
        instances += 1;
    }
    ev.push(
        Measurement::new(
            format!(
                "second-moment numbers held = n + m (+{state_offset}) (worst block {})",
                worst_mem.2
            ),
            worst_mem.0,
            worst_mem.1,
            Relation::Exact,
        )
        .with_note("Adafactor::state_len after one step, a count: exact")
        .witness()
        .key(),
    );
    let (n_big, m_big) = (
        memory_shapes[memory_shapes.len() - 2],
        memory_shapes[memory_shapes.len() - 1],
    );
    ev.push(
        Measurement::new(
            format!("Adam's second moment for the {n_big}×{m_big} block (n·m) vs Adafactor's"),
            (n_big * m_big) as f64,
            (n_big + m_big) as f64,
            Relation::AtLeast,
        )
        .with_note("what \"reduces the memory\" compares with")
        .context(),
    );

    // (2) Exactness for rank ≤ exact_rank, (3) optimality, and the checks.
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let mut worst_exact = (0.0f64, 1.0f64, String::new());
    let mut worst_avg = (0.0f64, 1.0f64);
    let mut worst_opt = (f64::INFINITY, 0.0f64, String::new());
    let mut worst_kkt = (0.0f64, 1.0f64);
    let mut path: Option<(Vec<f64>, Vec<f64>, Vec<f64>)> = None;
    for pair in shapes.chunks(2) {
        let (n, m) = (pair[0], pair[1]);
        for _ in 0..seeds {
            for rank in 1..=3usize {
                let v = positive_rank(n, m, rank, &mut rng);
                let g = v.map(f64::sqrt);
                // G² = V up to one rounding of the square root and one of the square: 3u.
                let v = g.map(|x| x * x);
                let opt = one_step(n, m, &g)?;
                let vhat = DMatrix::from_row_slice(n, m, &opt.v_hat(0).ok_or_else(|| other("no state"))?);
                instances += 1;
                // The row/column/overall *averages* (the slide's word), computed independently:
                // V̂_ij = mean_i · mean_j / mean. Sums of positive terms: each ≤ γ_len relative,
                // products and quotients a few u: γ_{n+m+nm} + 8u bounds the relative gap.
                let rmean = DVector::from_fn(n, |i, _| v.row(i).sum() / m as f64);
                let cmean = DVector::from_fn(m, |j, _| v.column(j).sum() / n as f64);
                let mean = v.sum() / (n * m) as f64;
                let avg = DMatrix::from_fn(n, m, |i, j| rmean[i] * cmean[j] / mean);
                let tol_entry = 2.0 * gamma(n + m + n * m) + 16.0 * UNIT_ROUNDOFF;
                let gap = (&avg - &vhat).zip_map(&vhat, |d, w| d.abs() / w).max();
                if gap / tol_entry > worst_avg.0 / worst_avg.1 {
                    worst_avg = (gap, tol_entry);
                }
                if rank <= exact_rank {
                    let err = (&vhat - &v).zip_map(&v, |d, w| d.abs() / w).max();
                    if err / tol_entry > worst_exact.0 / worst_exact.1 {
                        worst_exact = (err, tol_entry, format!("{n}×{m}, rank {rank}"));
                    }
                }
                if rank < 2 {
                    continue;
                }
                // First-order conditions of min D(V‖rcᵀ) at r = V1, c = 1ᵀV/1ᵀV1:
                // ∂/∂r_i = Σ_j (c_j − V_ij/r_i) = 0 and ∂/∂c_j = Σ_i (r_i − V_ij/c_j) = 0.
                let r = DVector::from_fn(n, |i, _| v.row(i).sum());
                let total = r.sum();
                let c = DVector::from_fn(m, |j, _| v.column(j).sum() / total);
                let mut kkt: f64 = 0.0;
                for i in 0..n {
                    let s: f64 = (0..m).map(|j| c[j] - v[(i, j)] / r[i]).sum();
                    kkt = kkt.max(s.abs() / 2.0);
                }
                for j in 0..m {
                    let s: f64 = (0..n).map(|i| r[i] - v[(i, j)] / c[j]).sum();
                    kkt = kkt.max(s.abs() / (2.0 * r.sum()));
                }
                let kkt_tol = 4.0 * gamma(n + m + n * m);
                if kkt / kkt_tol > worst_kkt.0 / worst_kkt.1 {
                    worst_kkt = (kkt, kkt_tol);
                }
                // Candidates: multiplicative perturbations of the factors, and the SVD's
                // best rank-1 (in Frobenius norm; positive by Perron–Frobenius).
                let (d0, scale) = divergence(&v, &vhat);
                let rf = DVector::from_fn(n, |i, _| vhat[(i, 0)]);
                let cf = DVector::from_fn(m, |j, _| vhat[(0, j)] / vhat[(0, 0)]);
                let mut cands: Vec<DMatrix<f64>> = Vec::new();
                for &delta in &deltas {
                    for _ in 0..4 {
                        let s = DVector::from_fn(n, |_, _| if rng.random::<bool>() { 1.0 } else { -1.0 });
                        let t = DVector::from_fn(m, |_, _| if rng.random::<bool>() { 1.0 } else { -1.0 });
                        for sign in [1.0, -1.0] {
                            let rp = rf.zip_map(&s, |a, b| a * (1.0 + sign * delta * b));
                            let cp = cf.zip_map(&t, |a, b| a * (1.0 + sign * delta * b));
                            cands.push(&rp * cp.transpose());
                        }
                    }
                }
                let svd = v.clone().svd(true, true);
                let k = svd.singular_values.imax();
                let u1 = svd.u.as_ref().expect("u").column(k).map(f64::abs);
                let w1 = svd.v_t.as_ref().expect("v_t").row(k).map(f64::abs);
                cands.push(&u1 * w1 * svd.singular_values[k]);
                let best = cands
                    .iter()
                    .map(|w| divergence(&v, w).0)
                    .fold(f64::INFINITY, f64::min);
                // Rounding of the two divergences: each a sum of nm terms, ≤ γ_{nm}·Σ|terms|
                // after the per-term log/products (8u): (γ_{nm} + 8u)·scale each.
                let tol = 2.0 * (gamma(n * m) + 8.0 * UNIT_ROUNDOFF) * scale;
                let margin = (best - d0) / tol;
                if margin < worst_opt.0 {
                    worst_opt = (margin, best - d0, format!("{n}×{m}, rank {rank}"));
                }
                if path.is_none() {
                    let ts: Vec<f64> = (-20..=20).map(|i| i as f64 * 0.01).collect();
                    let s = DVector::from_fn(n, |i, _| if i % 2 == 0 { 1.0 } else { -1.0 });
                    let (mut di, mut df) = (Vec::new(), Vec::new());
                    for &tt in &ts {
                        let rp = rf.zip_map(&s, |a, b| a * (1.0 + tt * b));
                        let w = &rp * cf.transpose();
                        di.push(i_divergence(&v, &w).0 / i_divergence(&v, &vhat).0);
                        df.push(frobenius(&v, &w).0 / frobenius(&v, &vhat).0);
                    }
                    path = Some((ts, di, df));
                }
            }
        }
    }
    ev.push(
        Measurement::new(
            "V̂ = (row average)(column average)/(overall average) of G²: max relative gap",
            worst_avg.0,
            worst_avg.1,
            Relation::AtMost,
        )
        .with_note(
            "independent computation of the averages; tolerance 2γ_{n+m+nm} + 16u (sums of positive terms)",
        ),
    );
    ev.push(
        Measurement::new(
            format!("V̂ = V = G² when rank V ≤ {exact_rank} (worst: {})", worst_exact.2),
            worst_exact.0,
            worst_exact.1,
            Relation::AtMost,
        )
        .with_note("max relative entry error; same tolerance argument")
        .witness()
        .key(),
    );
    ev.push(
        Measurement::new(
            "first-order conditions of the I-divergence at V̂ (max normalised gradient)",
            worst_kkt.0,
            worst_kkt.1,
            Relation::AtMost,
        )
        .with_note("Σ_j(c_j − V_ij/r_i) = 0, Σ_i(r_i − V_ij/c_j) = 0 hold exactly in real arithmetic"),
    );
    ev.push(
        Measurement::new(
            format!(
                "V̂ minimises the {objective} over rank-1 fits: min over perturbations and the SVD truncation of [D(cand) − D(V̂)]/tol (worst: {})",
                worst_opt.2
            ),
            worst_opt.0,
            -1.0,
            Relation::AtLeast,
        )
        .with_note(format!(
            "a value below −1 is a better rank-1 fit than V̂ beyond rounding (raw gap {:.3e}); perturbations r_i(1 ± δs_i), c_j(1 ± δt_j), δ ∈ {deltas:?}",
            worst_opt.1
        ))
        .witness()
        .key(),
    );
    ev.instances = instances;

    ev.figures.push(Figure {
        id: "memory".into(),
        title: "Second-moment memory of one n × m block".into(),
        x_label: "n·m (Adam's second moment)".into(),
        y_label: "numbers held".into(),
        log_x: true,
        log_y: true,
        series: vec![
            Series {
                label: "Adafactor (state_len)".into(),
                style: Style::Points,
                x: mem_x.clone(),
                y: mem_y,
            },
            Series {
                label: "Adam: n·m".into(),
                style: Style::Predicted,
                x: mem_x.clone(),
                y: mem_x,
            },
        ],
        caption: "Adafactor keeps the row sums R and column sums C (n + m numbers) where Adam keeps the full n·m second moment.".into(),
    });
    if let Some((ts, di, df)) = path {
        ev.figures.push(Figure {
            id: "divergence".into(),
            title: "V̂ is the I-divergence-optimal rank-1 fit, not the Frobenius one".into(),
            x_label: "perturbation t of the row factor, r_i(1 ± t)".into(),
            y_label: "divergence / divergence at V̂".into(),
            log_x: false,
            log_y: false,
            series: vec![
                Series {
                    label: "I-divergence (minimum at t = 0)".into(),
                    style: Style::Line,
                    x: ts.clone(),
                    y: di,
                },
                Series {
                    label: "squared Frobenius distance".into(),
                    style: Style::Line,
                    x: ts,
                    y: df,
                },
            ],
            caption: "Along a perturbation of the row factor the I-divergence is smallest at Adafactor's V̂ (Shazeer & Stern §3); the Frobenius distance is not.".into(),
        });
    }
    ev.remarks = Some(
        "\"Average over rows and/or columns\" is, precisely, V̂_ij = (mean of row i of G²)(mean of column j)/(mean of G²): \
         the I-divergence-optimal rank-1 nonnegative fit of the second moment (Shazeer & Stern 2018, §3), exact when G² has \
         rank 1. The per-entry step sizes 1/√V̂_ij remain n·m numbers but are determined by n + m."
            .into(),
    );
    Ok(ev)
}
