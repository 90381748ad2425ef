//! # Preconditioned steepest descent with exact line search on a quadratic
//!
//! On $f(x) = \tfrac12 x^\top A x$ ($A$ symmetric positive definite, $x^\star = 0$), steepest
//! descent with exact line search preconditioned by a symmetric positive definite $P$,
//! $$p_k = P^{-1}\nabla f(x_k),\qquad \alpha_k = \frac{\nabla f(x_k)^\top p_k}{p_k^\top A p_k},
//! \qquad x_{k+1} = x_k - \alpha_k p_k,$$
//! is plain steepest descent on $\hat A = P^{-1/2} A P^{-1/2}$ in the variable $y = P^{1/2}x$,
//! and $\Vert x\Vert_A = \Vert y\Vert_{\hat A}$. By the Kantorovich inequality (Nocedal & Wright,
//! *Numerical Optimization*, 2nd ed. 2006, Thm 3.3; Luenberger & Ye, *Linear and Nonlinear
//! Programming*, §8.2), every step satisfies
//! $$\Vert x_{k+1}\Vert_A \le \frac{\hat\kappa-1}{\hat\kappa+1}\Vert x_k\Vert_A,
//! \qquad \hat\kappa = \kappa(\hat A) = \frac{\lambda_{\max}(\hat A)}{\lambda_{\min}(\hat A)},$$
//! i.e. $f(x_{k+1}) \le \big(\frac{\hat\kappa-1}{\hat\kappa+1}\big)^2 f(x_k)$, with equality at
//! every step from $y_0 = v_1/\lambda_1 + v_n/\lambda_n$ (extreme eigenvectors of $\hat A$):
//! the gradient then has equal weight on $v_1$ and $v_n$ and every step size is
//! $2/(\lambda_1+\lambda_n)$ ([`worst_start`]).
//!
//! **Jacobi** scaling takes $P = D = \mathrm{diag}(A)$ ([`jacobi_scaled`]). Van der Sluis (1969;
//! Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed. 2002, §7.3) proved
//! $\kappa(D^{-1/2}AD^{-1/2}) \le n \min_{\Delta\ \text{diagonal}}\kappa(\Delta A\Delta)$: Jacobi is
//! within a factor $n$ of the best diagonal scaling, but it can be worse than no scaling at all
//! (for $n \ge 3$; for $n = 2$ it is the best diagonal scaling, Forsythe & Straus 1955).
//! When $D^{-1/2}AD^{-1/2}$ is strictly diagonally dominant with off-diagonal row sums
//! $\le r < 1$, Gershgorin's theorem gives $\hat\kappa \le (1+r)/(1-r)$
//! ([`gershgorin_kappa_bound`]).

use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// The Kantorovich per-step rate (κ−1)/(κ+1) of exact-line-search steepest descent in the
/// A-norm (its square in f − f*).
pub fn kantorovich_rate(kappa: f64) -> f64 {
    (kappa - 1.0) / (kappa + 1.0)
}

/// Eigenvalues (ascending) and eigenvectors (columns in the same order) of a symmetric matrix.
pub fn sorted_eigen(a: &DMatrix<f64>) -> (DVector<f64>, DMatrix<f64>) {
    let n = a.nrows();
    let eig = SymmetricEigen::new(a.clone());
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&i, &j| eig.eigenvalues[i].total_cmp(&eig.eigenvalues[j]));
    let vals = DVector::from_iterator(n, idx.iter().map(|&i| eig.eigenvalues[i]));
    let vecs = DMatrix::from_fn(n, n, |r, c| eig.eigenvectors[(r, idx[c])]);
    (vals, vecs)
}

/// κ(A) = λ_max/λ_min of a symmetric positive definite matrix (∞ if λ_min ≤ 0).
pub fn condition_number(a: &DMatrix<f64>) -> f64 {
    let (vals, _) = sorted_eigen(a);
    let lo = vals[0];
    let hi = vals[vals.len() - 1];
    if lo > 0.0 {
        hi / lo
    } else {
        f64::INFINITY
    }
}

/// Δ A Δ for a diagonal Δ = diag(`d`).
pub fn diagonally_scaled(a: &DMatrix<f64>, d: &[f64]) -> DMatrix<f64> {
    let n = a.nrows();
    DMatrix::from_fn(n, n, |i, j| d[i] * a[(i, j)] * d[j])
}

/// Jacobi scaling D^{-1/2} A D^{-1/2}, D = diag(A): unit diagonal.
pub fn jacobi_scaled(a: &DMatrix<f64>) -> DMatrix<f64> {
    let d: Vec<f64> = (0..a.nrows()).map(|i| 1.0 / a[(i, i)].sqrt()).collect();
    diagonally_scaled(a, &d)
}

/// Gershgorin's bound (1+r)/(1−r) on κ of a symmetric matrix with unit diagonal whose
/// off-diagonal absolute row sums are ≤ r < 1; `None` if r ≥ 1.
pub fn gershgorin_kappa_bound(b: &DMatrix<f64>) -> Option<f64> {
    let n = b.nrows();
    let r = (0..n)
        .map(|i| (0..n).filter(|&j| j != i).map(|j| b[(i, j)].abs()).sum::<f64>() / b[(i, i)])
        .fold(0.0, f64::max);
    (r < 1.0).then(|| (1.0 + r) / (1.0 - r))
}

/// The worst start of exact-line-search steepest descent on `a`: v₁/λ₁ + v_n/λ_n (extreme
/// eigenvectors), from which every step contracts the A-norm by exactly (κ−1)/(κ+1).
/// Also returns the eigenvalues (ascending).
pub fn worst_start(a: &DMatrix<f64>) -> (DVector<f64>, DVector<f64>) {
    let (vals, vecs) = sorted_eigen(a);
    let n = a.nrows();
    let x = vecs.column(0) / vals[0] + vecs.column(n - 1) / vals[n - 1];
    (x, vals)
}

/// An upper bound on min over diagonal Δ of κ(ΔAΔ): the best κ found by a coordinate search
/// on the log-scales (steps halved from `ln 4` over `sweeps` sweeps), started from Jacobi's
/// scaling and from Δ = I. Any Δ gives an upper bound of the minimum, so this is a valid
/// right-hand side for van der Sluis' inequality κ_Jacobi ≤ n·min κ.
pub fn best_diagonal_scaling_kappa(a: &DMatrix<f64>, sweeps: usize) -> f64 {
    let n = a.nrows();
    let mut best = f64::INFINITY;
    let starts: [Vec<f64>; 2] = [(0..n).map(|i| -0.5 * a[(i, i)].ln()).collect(), vec![0.0; n]];
    for start in starts {
        let mut logs = start;
        let eval = |l: &[f64]| {
            let d: Vec<f64> = l.iter().map(|v| v.exp()).collect();
            condition_number(&diagonally_scaled(a, &d))
        };
        let mut cur = eval(&logs);
        let mut step = 4f64.ln();
        for _ in 0..sweeps {
            let mut improved = true;
            while improved {
                improved = false;
                // The first coordinate stays fixed: κ is invariant to a common factor.
                for i in 1..n {
                    for sign in [1.0, -1.0] {
                        let mut trial = logs.clone();
                        trial[i] += sign * step;
                        let v = eval(&trial);
                        if v < cur {
                            cur = v;
                            logs = trial;
                            improved = true;
                        }
                    }
                }
            }
            step *= 0.5;
        }
        best = best.min(cur);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_jacobi_of_scaled_unit_diagonal_matrix_recovers_it() {
        let b = DMatrix::from_row_slice(3, 3, &[1.0, 0.2, -0.1, 0.2, 1.0, 0.3, -0.1, 0.3, 1.0]);
        let s = [10.0, 0.1, 3.0];
        let a = diagonally_scaled(&b, &s);
        let j = jacobi_scaled(&a);
        assert!((j - &b).amax() <= 8.0 * f64::EPSILON);
        let bound = gershgorin_kappa_bound(&b).unwrap();
        assert!(condition_number(&b) <= bound);
        assert!(condition_number(&a) > 100.0);
    }

    #[test]
    fn test_worst_start_contracts_by_the_kantorovich_rate() {
        let a = DMatrix::from_row_slice(3, 3, &[2.0, 1.0, 1.0, 1.0, 3.0, 2.0, 1.0, 2.0, 3.0]);
        let (x0, vals) = worst_start(&a);
        let q = kantorovich_rate(vals[2] / vals[0]);
        let g = &a * &x0;
        let alpha = g.dot(&g) / g.dot(&(&a * &g));
        let x1 = &x0 - alpha * &g;
        let ratio = (x1.dot(&(&a * &x1)) / x0.dot(&(&a * &x0))).sqrt();
        assert!((ratio - q).abs() <= 1e-12, "{ratio} vs {q}");
    }

    #[test]
    fn test_best_diagonal_scaling_is_no_worse_than_identity_or_jacobi() {
        let a = DMatrix::from_row_slice(3, 3, &[2.0, 1.0, 1.0, 1.0, 3.0, 2.0, 1.0, 2.0, 3.0]);
        let best = best_diagonal_scaling_kappa(&a, 20);
        assert!(best <= condition_number(&a));
        assert!(best <= condition_number(&jacobi_scaled(&a)));
        assert!(condition_number(&jacobi_scaled(&a)) <= 3.0 * best);
    }
}
