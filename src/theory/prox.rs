//! # Proximal operators of the ℓ¹, ℓ∞ and squared ℓ² penalties
//!
//! $\mathrm{prox}_{h}(v) = \arg\min_x h(x) + \tfrac12\Vert x - v\Vert^2$, in closed form:
//!
//! | penalty $h$ | prox | function |
//! |---|---|---|
//! | $\lambda\Vert x\Vert_1$ | soft threshold $\mathrm{sign}(v_i)\max(\vert v_i\vert-\lambda, 0)$ | [`soft_threshold`] |
//! | $\lambda\Vert x\Vert_\infty$ | clip at $t$: $\mathrm{sign}(v_i)\min(\vert v_i\vert, t)$ with $\sum_i(\vert v_i\vert - t)_+ = \lambda$ ($0$ if $\Vert v\Vert_1 \le \lambda$) | [`prox_linf`] |
//! | $\tfrac\lambda2\Vert x\Vert_2^2$ | $v/(1+\lambda)$ | [`prox_sq_l2`] |
//!
//! The ℓ∞ prox follows from Moreau's decomposition, $\mathrm{prox}_{\lambda\Vert\cdot\Vert_\infty}(v)
//! = v - \lambda\,\Pi_{B_1}(v/\lambda)$ ($B_1$ the unit ℓ¹ ball, the dual norm's ball), computed
//! independently by [`prox_linf_moreau`] with the sort-based projection of Duchi, Shalev-Shwartz,
//! Singer & Chandra, *Efficient projections onto the ℓ1-ball for learning in high dimensions*,
//! ICML 2008, Fig. 1 ([`project_l1_ball`]). Since $\Pi_{B_1}(w)_i = \mathrm{sign}(w_i)(\vert w_i\vert -
//! \theta)_+$, the Moreau form equals the clip at $t = \lambda\theta$; [`prox_linf`] writes the clip
//! directly, so the clipped coordinates are *exactly* equal in magnitude (one value $t$), and
//! the ties that the ℓ∞ penalty creates are exact ties in floating point.

use nalgebra::DVector;

/// prox of λ‖·‖₁: sign(v_i)·max(|v_i| − λ, 0), with exact zeros.
pub fn soft_threshold(v: &DVector<f64>, lambda: f64) -> DVector<f64> {
    v.map(|x| {
        let m = x.abs() - lambda;
        if m > 0.0 {
            m.copysign(x)
        } else {
            0.0
        }
    })
}

/// The threshold θ of Duchi et al. (2008, Fig. 1) for projecting the non-negative vector `a`
/// onto the simplex {w ≥ 0, Σw = z}: sort a decreasingly (μ), ρ = max{j : μ_j − (Σ_{r≤j} μ_r −
/// z)/j > 0}, θ = (Σ_{r≤ρ} μ_r − z)/ρ. Requires Σa > z > 0.
pub fn simplex_threshold(a: &[f64], z: f64) -> f64 {
    let mut mu: Vec<f64> = a.to_vec();
    mu.sort_by(|x, y| y.total_cmp(x));
    let mut cum = 0.0;
    let mut theta = 0.0;
    for (j, &m) in mu.iter().enumerate() {
        cum += m;
        let t = (cum - z) / (j + 1) as f64;
        if m - t > 0.0 {
            theta = t;
        }
    }
    theta
}

/// Euclidean projection onto the ℓ¹ ball of radius `radius` (Duchi et al. 2008): `v` itself if
/// ‖v‖₁ ≤ radius, else sign(v_i)(|v_i| − θ)_+ (the [`soft_threshold`] at θ) with θ from
/// [`simplex_threshold`] on |v|.
pub fn project_l1_ball(v: &DVector<f64>, radius: f64) -> DVector<f64> {
    let abs: Vec<f64> = v.iter().map(|x| x.abs()).collect();
    if abs.iter().sum::<f64>() <= radius {
        return v.clone();
    }
    // sign(v_i)(|v_i| − θ)_+ is the soft threshold at θ.
    soft_threshold(v, simplex_threshold(&abs, radius))
}

/// The clipping level t of prox_{λ‖·‖∞}(v): Σ_i (|v_i| − t)_+ = λ, or 0 when ‖v‖₁ ≤ λ.
pub fn linf_clip_level(v: &DVector<f64>, lambda: f64) -> f64 {
    let abs: Vec<f64> = v.iter().map(|x| x.abs()).collect();
    if abs.iter().sum::<f64>() <= lambda {
        return 0.0;
    }
    simplex_threshold(&abs, lambda)
}

/// prox of λ‖·‖∞: sign(v_i)·min(|v_i|, t), t = [`linf_clip_level`]; the clipped coordinates
/// carry exactly the magnitude t.
pub fn prox_linf(v: &DVector<f64>, lambda: f64) -> DVector<f64> {
    let t = linf_clip_level(v, lambda);
    v.map(|x| if x.abs() >= t { t.copysign(x) } else { x })
}

/// prox of λ‖·‖∞ by Moreau's decomposition, v − λ·Π_{B₁}(v/λ): an independent computation of
/// [`prox_linf`] (equal in exact arithmetic; its ties are equal only to rounding).
pub fn prox_linf_moreau(v: &DVector<f64>, lambda: f64) -> DVector<f64> {
    v - project_l1_ball(&(v / lambda), 1.0) * lambda
}

/// prox of (λ/2)‖·‖²₂: v/(1 + λ).
pub fn prox_sq_l2(v: &DVector<f64>, lambda: f64) -> DVector<f64> {
    v / (1.0 + lambda)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_soft_threshold_hand_values() {
        let v = DVector::from_vec(vec![3.0, -0.5, -2.0, 1.0]);
        assert_eq!(soft_threshold(&v, 1.0).as_slice(), &[2.0, 0.0, -1.0, 0.0]);
    }

    #[test]
    fn test_linf_prox_clips_with_exact_ties_and_matches_moreau() {
        // |v| = (3, 2, 0.5, 1): clip level t with (3−t) + (2−t) = 1.5 → t = 1.75.
        let v = DVector::from_vec(vec![3.0, -2.0, 0.5, 1.0]);
        let p = prox_linf(&v, 1.5);
        assert_eq!(p.as_slice(), &[1.75, -1.75, 0.5, 1.0]);
        let m = prox_linf_moreau(&v, 1.5);
        assert!((m - &p).amax() <= 4.0 * f64::EPSILON * 3.0);
        // Small ‖v‖₁: the prox is 0.
        assert_eq!(prox_linf(&v, 7.0).amax(), 0.0);
    }

    #[test]
    fn test_l1_projection_lands_on_the_sphere() {
        let v = DVector::from_vec(vec![0.9, -0.4, 0.3, 0.05]);
        let p = project_l1_ball(&v, 1.0);
        assert!((p.abs().sum() - 1.0).abs() <= 8.0 * f64::EPSILON);
        assert_eq!(project_l1_ball(&(&v * 0.5), 1.0), &v * 0.5);
    }
}
