//! # Stochastic gradient oracles
//!
//! ## Mini-batches ([`BatchSampler`], [`MiniBatchOracle`])
//! An **epoch** is a uniformly random permutation $\pi$ of $\\{0,\dots,m-1\\}$ (seeded ChaCha8,
//! Fisher–Yates) cut into consecutive batches of size $B$: $S_1 = \pi(0..B)$,
//! $S_2 = \pi(B..2B)$, … so the batches of an epoch **partition** $\\{0,\dots,m-1\\}$. When $B\nmid m$ the
//! last batch has $m \bmod B$ elements: [`LastBatch::Keep`] uses it (PyTorch
//! `DataLoader(shuffle=True, drop_last=False)`), [`LastBatch::Drop`] skips it
//! (`drop_last=True`; those examples are unseen in that epoch). The mini-batch gradient is
//! $$g_k = \frac1{|S_k|}\sum_{i\in S_k}\nabla f_i(\theta).$$
//! Each $S_k$ is a uniformly random subset of its size, hence $\mathbb E\\,g_k = \nabla f$
//! (including the smaller last batch), and
//! $$\mathbb E\Vert g_k - \nabla f\Vert^2 = \frac{\sigma^2_{\rm pop}}{B}\cdot\frac{m - B}{m - 1},
//!   \qquad \sigma^2_{\rm pop} = \frac1m\sum_{i=1}^m\Vert\nabla f_i - \nabla f\Vert^2$$
//! (finite-population correction). *Derivation.* With $d_i = \nabla f_i - \nabla f$,
//! $\sum_i d_i = 0$ and indicators $\xi_i = [i\in S]$, $\mathbb E\xi_i = B/m$,
//! $\mathbb E\xi_i\xi_j = \frac{B(B-1)}{m(m-1)}$ ($i\ne j$), so
//! $\mathbb E\Vert\sum_i\xi_id_i\Vert^2 = \frac Bm\sum_i\Vert d_i\Vert^2 + \frac{B(B-1)}{m(m-1)}\sum_{i\ne j}d_i^\top d_j$
//! and $\sum_{i\ne j}d_i^\top d_j = \Vert\sum_i d_i\Vert^2 - \sum_i\Vert d_i\Vert^2 = -\sum_i\Vert d_i\Vert^2$.
//! Hence $\mathbb E\Vert\sum\xi_id_i\Vert^2 = \frac Bm\big(1 - \frac{B-1}{m-1}\big)\sum_i\Vert d_i\Vert^2
//! = \frac{B(m-B)}{m-1}\sigma^2_{\rm pop}$; dividing by $B^2$ gives the formula. It is $0$ at
//! $B = m$ and $\sigma^2_{\rm pop}/B$ (the with-replacement value) at $B = 1$. Tested by
//! enumerating all $\binom mB$ batches.
//!
//! ## Additive noise ([`AdditiveNoiseOracle`])
//! $g = \nabla f(\theta) + \xi$, $\xi\sim\mathcal N(0, \tfrac{\sigma^2}{n}I_n)$ i.i.d. per call:
//! **$\sigma^2/n$ per coordinate**, so $\mathbb E g = \nabla f$ and
//! $\mathbb E\Vert g - \nabla f\Vert^2 = \sigma^2$ exactly, independent of the dimension
//! (the "bounded variance $\sigma^2$" assumption of SGD analyses, attained with equality).
//!
//! ## References
//! 1. W. G. Cochran, *Sampling Techniques*, 3rd ed. (1977), Thm. 2.2 (variance of the mean of
//!    a simple random sample without replacement).
//! 2. PyTorch `torch.utils.data.DataLoader` (`shuffle`, `drop_last`),
//!    <https://pytorch.org/docs/stable/data.html>.

use super::{check_range, FiniteSum, GradientOracle, Objective, ProblemError};
use nalgebra::DVector;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// What happens to the last, smaller batch of an epoch when B does not divide m.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastBatch {
    /// Use it (PyTorch `drop_last=False`, the default).
    Keep,
    /// Skip it (PyTorch `drop_last=True`).
    Drop,
}

/// Seeded epochs of random partitions of 0..m into batches (see the module doc).
///
/// # Examples
/// ```
/// use optverify::problems::{BatchSampler, LastBatch};
/// let mut s = BatchSampler::new(10, 4, LastBatch::Keep, 0).unwrap();
/// let epoch = s.next_epoch();
/// let sizes: Vec<usize> = epoch.iter().map(|b| b.len()).collect();
/// assert_eq!(sizes, [4, 4, 2]);
/// let mut all = epoch.concat();
/// all.sort();
/// assert_eq!(all, (0..10).collect::<Vec<_>>());
/// ```
#[derive(Debug, Clone)]
pub struct BatchSampler {
    num_examples: usize,
    batch_size: usize,
    last: LastBatch,
    rng: ChaCha8Rng,
    order: Vec<usize>,
    /// Index into `order` of the next batch's start; `num_examples` forces a new epoch.
    position: usize,
    batches_in_epoch: usize,
    epochs_started: usize,
    batch: Vec<usize>,
}

impl BatchSampler {
    /// Batches of `batch_size` from `num_examples` examples, permutations from `seed`.
    ///
    /// # Errors
    /// m = 0, B = 0, B > m, or `Drop` with no full batch.
    pub fn new(
        num_examples: usize,
        batch_size: usize,
        last: LastBatch,
        seed: u64,
    ) -> Result<Self, ProblemError> {
        check_range(
            "batch_sampler",
            "num_examples",
            num_examples as f64,
            num_examples >= 1,
            ">= 1",
        )?;
        check_range(
            "batch_sampler",
            "batch_size",
            batch_size as f64,
            batch_size >= 1 && batch_size <= num_examples,
            "1..=num_examples",
        )?;
        Ok(BatchSampler {
            num_examples,
            batch_size,
            last,
            rng: ChaCha8Rng::seed_from_u64(seed),
            order: (0..num_examples).collect(),
            position: num_examples,
            batches_in_epoch: 0,
            epochs_started: 0,
            batch: Vec::with_capacity(batch_size),
        })
    }

    /// m.
    pub fn num_examples(&self) -> usize {
        self.num_examples
    }
    /// B.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }
    /// Batches per epoch: ⌈m/B⌉ with `Keep`, ⌊m/B⌋ with `Drop`.
    pub fn batches_per_epoch(&self) -> usize {
        match self.last {
            LastBatch::Keep => self.num_examples.div_ceil(self.batch_size),
            LastBatch::Drop => self.num_examples / self.batch_size,
        }
    }
    /// Number of epochs begun so far (the current one included).
    pub fn epochs_started(&self) -> usize {
        self.epochs_started
    }
    /// Number of batches already returned in the current epoch.
    pub fn batches_in_epoch(&self) -> usize {
        self.batches_in_epoch
    }

    /// The next batch; a new epoch (fresh permutation) starts when the current one is used up.
    pub fn next_batch(&mut self) -> &[usize] {
        if self.batches_in_epoch == self.batches_per_epoch() || self.epochs_started == 0 {
            // Start from the identity so an epoch's permutation depends on the RNG state only.
            for (i, o) in self.order.iter_mut().enumerate() {
                *o = i;
            }
            self.order.shuffle(&mut self.rng);
            self.position = 0;
            self.batches_in_epoch = 0;
            self.epochs_started += 1;
        }
        let end = (self.position + self.batch_size).min(self.num_examples);
        self.batch.clear();
        self.batch.extend_from_slice(&self.order[self.position..end]);
        self.position = end;
        self.batches_in_epoch += 1;
        &self.batch
    }

    /// The remaining batches of the current epoch (a whole epoch when called at a boundary).
    pub fn next_epoch(&mut self) -> Vec<Vec<usize>> {
        let mut out = vec![self.next_batch().to_vec()];
        while self.batches_in_epoch < self.batches_per_epoch() {
            out.push(self.next_batch().to_vec());
        }
        out
    }
}

/// $g = |S_k|^{-1}\sum_{i\in S_k}\nabla f_i$ with batches from a [`BatchSampler`].
pub struct MiniBatchOracle<'a, P: FiniteSum + ?Sized> {
    problem: &'a P,
    sampler: BatchSampler,
    scratch: DVector<f64>,
    last_batch: Vec<usize>,
}

impl<'a, P: FiniteSum + ?Sized> MiniBatchOracle<'a, P> {
    /// Oracle over `problem`'s examples.
    ///
    /// # Errors
    /// The sampler's m differs from the problem's number of examples.
    pub fn new(problem: &'a P, sampler: BatchSampler) -> Result<Self, ProblemError> {
        if sampler.num_examples() != problem.num_examples() {
            return Err(ProblemError::Invalid {
                problem: "mini_batch_oracle",
                reason: format!(
                    "sampler over {} examples for a problem with {}",
                    sampler.num_examples(),
                    problem.num_examples()
                ),
            });
        }
        Ok(MiniBatchOracle {
            problem,
            scratch: DVector::zeros(problem.dim()),
            sampler,
            last_batch: Vec::new(),
        })
    }
    /// The batch used by the last call.
    pub fn last_batch(&self) -> &[usize] {
        &self.last_batch
    }
    /// The sampler (epoch counters).
    pub fn sampler(&self) -> &BatchSampler {
        &self.sampler
    }
}

/// Mean of the example gradients over `batch`, into `g`.
pub fn batch_gradient_into<P: FiniteSum + ?Sized>(
    problem: &P,
    batch: &[usize],
    x: &DVector<f64>,
    scratch: &mut DVector<f64>,
    g: &mut DVector<f64>,
) {
    g.fill(0.0);
    for &i in batch {
        problem.example_gradient_into(i, x, scratch);
        *g += &*scratch;
    }
    *g /= batch.len() as f64;
}

impl<P: FiniteSum + ?Sized> GradientOracle for MiniBatchOracle<'_, P> {
    fn dim(&self) -> usize {
        self.problem.dim()
    }
    fn gradient_into(&mut self, x: &DVector<f64>, g: &mut DVector<f64>) {
        let batch = self.sampler.next_batch();
        self.last_batch.clear();
        self.last_batch.extend_from_slice(batch);
        batch_gradient_into(self.problem, &self.last_batch, x, &mut self.scratch, g);
    }
}

/// $\nabla f + \mathcal N(0, \sigma^2/n\\,I)$ (see the module doc).
pub struct AdditiveNoiseOracle<'a, P: Objective + ?Sized> {
    problem: &'a P,
    sigma: f64,
    normal: Normal<f64>,
    rng: ChaCha8Rng,
}

impl<'a, P: Objective + ?Sized> AdditiveNoiseOracle<'a, P> {
    /// Total noise standard deviation σ ≥ 0 (E‖ξ‖² = σ²), noise from `seed`.
    pub fn new(problem: &'a P, sigma: f64, seed: u64) -> Result<Self, ProblemError> {
        check_range(
            "additive_noise",
            "sigma",
            sigma,
            sigma.is_finite() && sigma >= 0.0,
            "[0, inf), finite",
        )?;
        let n = problem.dim().max(1) as f64;
        let normal = Normal::new(0.0, sigma / n.sqrt()).map_err(|e| ProblemError::Invalid {
            problem: "additive_noise",
            reason: e.to_string(),
        })?;
        Ok(AdditiveNoiseOracle {
            problem,
            sigma,
            normal,
            rng: ChaCha8Rng::seed_from_u64(seed),
        })
    }
    /// E‖g − ∇f‖² = σ².
    pub fn total_variance(&self) -> f64 {
        self.sigma * self.sigma
    }
    /// Variance of each coordinate of the noise, σ²/n.
    pub fn coordinate_variance(&self) -> f64 {
        self.total_variance() / self.problem.dim().max(1) as f64
    }
}

impl<P: Objective + ?Sized> GradientOracle for AdditiveNoiseOracle<'_, P> {
    fn dim(&self) -> usize {
        self.problem.dim()
    }
    fn gradient_into(&mut self, x: &DVector<f64>, g: &mut DVector<f64>) {
        self.problem.gradient_into(x, g);
        for v in g.iter_mut() {
            *v += self.normal.sample(&mut self.rng);
        }
    }
}

/// Mean $\bar g$ and population variance $\sigma^2_{\rm pop} = m^{-1}\sum_i\Vert g_i - \bar g\Vert^2$.
pub fn population_variance(grads: &[DVector<f64>]) -> (DVector<f64>, f64) {
    let m = grads.len() as f64;
    let mut mean = DVector::zeros(grads.first().map_or(0, |g| g.len()));
    for g in grads {
        mean += g;
    }
    mean /= m;
    let var = grads.iter().map(|g| (g - &mean).norm_squared()).sum::<f64>() / m;
    (mean, var)
}

/// $\frac{\sigma^2_{\rm pop}}{B}\cdot\frac{m-B}{m-1}$: the variance of a without-replacement
/// batch mean of size B (module doc). `None` unless 1 ≤ B ≤ m; 0 when m = 1.
pub fn without_replacement_variance(sigma2_pop: f64, m: usize, b: usize) -> Option<f64> {
    if b == 0 || b > m {
        return None;
    }
    if m == 1 {
        return Some(0.0);
    }
    Some(sigma2_pop / b as f64 * (m - b) as f64 / (m - 1) as f64)
}

/// Mini-batches drawn independently at every call: a uniform B-subset of the m examples
/// (without replacement inside the batch, with replacement across calls), g = mean of the
/// example gradients. Unlike [`MiniBatchOracle`]'s epochs, every call is conditionally unbiased
/// given the past: E[g | past] = ∇f(θ), with E‖g − ∇f‖² = σ²_pop/B·(m − B)/(m − 1)
/// (module doc).
pub struct IidBatchOracle<'a, P: FiniteSum + ?Sized> {
    problem: &'a P,
    batch_size: usize,
    rng: ChaCha8Rng,
    batch: Vec<usize>,
    scratch: DVector<f64>,
}

impl<'a, P: FiniteSum + ?Sized> IidBatchOracle<'a, P> {
    /// Batches of `batch_size` examples of `problem`, drawn from `seed`.
    ///
    /// # Errors
    /// `batch_size` is 0 or larger than the number of examples.
    pub fn new(problem: &'a P, batch_size: usize, seed: u64) -> Result<Self, ProblemError> {
        let m = problem.num_examples();
        if batch_size == 0 || batch_size > m {
            return Err(ProblemError::Invalid {
                problem: "IidBatchOracle",
                reason: format!("batch size {batch_size} outside 1..={m}"),
            });
        }
        Ok(IidBatchOracle {
            problem,
            batch_size,
            rng: ChaCha8Rng::seed_from_u64(seed),
            batch: Vec::with_capacity(batch_size),
            scratch: DVector::zeros(problem.dim()),
        })
    }

    /// The batch drawn by the last call.
    pub fn last_batch(&self) -> &[usize] {
        &self.batch
    }
}

impl<P: FiniteSum + ?Sized> GradientOracle for IidBatchOracle<'_, P> {
    fn dim(&self) -> usize {
        self.problem.dim()
    }
    fn gradient_into(&mut self, x: &DVector<f64>, g: &mut DVector<f64>) {
        let m = self.problem.num_examples();
        self.batch.clear();
        self.batch
            .extend(rand::seq::index::sample(&mut self.rng, m, self.batch_size).iter());
        batch_gradient_into(self.problem, &self.batch, x, &mut self.scratch, g);
    }
}

/// Exact $\mathbb E\Vert g_S - \nabla f(x)\Vert^2$ for a uniformly random batch of size `b` drawn
/// without replacement from `problem`'s examples.
pub fn batch_gradient_variance<P: FiniteSum + ?Sized>(
    problem: &P,
    x: &DVector<f64>,
    b: usize,
) -> Option<f64> {
    let grads: Vec<DVector<f64>> = (0..problem.num_examples())
        .map(|i| {
            let mut g = DVector::zeros(problem.dim());
            problem.example_gradient_into(i, x, &mut g);
            g
        })
        .collect();
    let (_, s2) = population_variance(&grads);
    without_replacement_variance(s2, problem.num_examples(), b)
}

/// All size-`b` subsets of 0..m, in lexicographic order (exact enumeration of the mini-batches
/// of size b; C(m, b) of them).
pub fn subsets(m: usize, b: usize) -> Vec<Vec<usize>> {
    fn rec(start: usize, m: usize, b: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if cur.len() == b {
            out.push(cur.clone());
            return;
        }
        for i in start..m {
            if m - i < b - cur.len() {
                break;
            }
            cur.push(i);
            rec(i + 1, m, b, cur, out);
            cur.pop();
        }
    }
    let mut out = Vec::new();
    rec(0, m, b, &mut Vec::new(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prec::gamma;
    use crate::problems::LeastSquares;

    fn max_example_gradient_norm(p: &LeastSquares, x: &DVector<f64>) -> f64 {
        let mut g = DVector::zeros(x.len());
        (0..p.num_examples())
            .map(|i| {
                p.example_gradient_into(i, x, &mut g);
                g.norm()
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn test_epoch_is_partition() {
        for (m, b, last) in [
            (10, 3, LastBatch::Keep),
            (10, 3, LastBatch::Drop),
            (12, 4, LastBatch::Drop),
            (7, 7, LastBatch::Keep),
        ] {
            let mut s = BatchSampler::new(m, b, last, 42).unwrap();
            for epoch in 1..=3 {
                let batches = s.next_epoch();
                assert_eq!(s.epochs_started(), epoch);
                assert_eq!(batches.len(), s.batches_per_epoch());
                let mut seen: Vec<usize> = batches.concat();
                let covered = seen.len();
                seen.sort_unstable();
                seen.dedup();
                assert_eq!(seen.len(), covered, "no example twice in an epoch");
                match last {
                    LastBatch::Keep => assert_eq!(covered, m),
                    LastBatch::Drop => assert_eq!(covered, (m / b) * b),
                }
                assert!(batches
                    .iter()
                    .all(|bt| bt.len() == b || (last == LastBatch::Keep && bt.len() == m % b)));
            }
        }
    }

    #[test]
    fn test_sampler_is_deterministic_and_reshuffles() {
        let mut a = BatchSampler::new(20, 5, LastBatch::Keep, 1).unwrap();
        let mut b = BatchSampler::new(20, 5, LastBatch::Keep, 1).unwrap();
        let (ea, eb) = (a.next_epoch(), b.next_epoch());
        assert_eq!(ea, eb);
        // A second epoch is a different permutation (probability 1/20! of a false failure).
        assert_ne!(a.next_epoch().concat(), ea.concat());
        let mut c = BatchSampler::new(20, 5, LastBatch::Keep, 2).unwrap();
        assert_ne!(c.next_epoch(), ea);
    }

    #[test]
    fn test_sampler_rejects_bad_sizes() {
        assert!(BatchSampler::new(0, 1, LastBatch::Keep, 0).is_err());
        assert!(BatchSampler::new(5, 0, LastBatch::Keep, 0).is_err());
        assert!(BatchSampler::new(5, 6, LastBatch::Keep, 0).is_err());
    }

    #[test]
    fn test_without_replacement_variance_by_enumeration() {
        // Every size-B subset is equally likely, so the exact expectation is the average over
        // all C(m, B) subsets. Compared to rounding of sums of ≤ C(8,4)=70 terms of ≤ 10 flops.
        let p = LeastSquares::random(8, 3, 0.5, 3).unwrap();
        let x = DVector::from_vec(vec![0.2, -0.4, 1.0]);
        let full = p.gradient(&x);
        let mut scratch = DVector::zeros(3);
        for b in 1..=8 {
            let all = subsets(8, b);
            let mut mean = DVector::zeros(3);
            let mut var = 0.0;
            let mut g = DVector::zeros(3);
            for s in &all {
                batch_gradient_into(&p, s, &x, &mut scratch, &mut g);
                mean += &g;
                var += (&g - &full).norm_squared();
            }
            mean /= all.len() as f64;
            var /= all.len() as f64;
            let predicted = batch_gradient_variance(&p, &x, b).unwrap();
            // Every batch mean and ∇f have norm ≤ G = max_i ‖∇f_i‖, every squared deviation is
            // ≤ 4G²; sums of ≤ 70 + 8 such terms, each from ≤ 10 flops: error ≤ γ_100 times
            // those magnitudes (per coordinate, 3 coordinates).
            let big_g = max_example_gradient_norm(&p, &x);
            assert!(
                (&mean - &full).norm() <= 3.0 * gamma(100) * big_g,
                "unbiased, B = {b}"
            );
            assert!(
                (var - predicted).abs() <= 3.0 * gamma(100) * 4.0 * big_g * big_g,
                "B = {b}: {var} vs {predicted}"
            );
        }
        assert_eq!(batch_gradient_variance(&p, &x, 8), Some(0.0));
        assert_eq!(without_replacement_variance(1.0, 8, 9), None);
        assert_eq!(without_replacement_variance(2.0, 8, 1), Some(2.0));
    }

    #[test]
    fn test_keep_last_batch_unbiased_over_all_permutations() {
        // m = 5, B = 2: batches of sizes 2, 2, 1. Averaging each position's batch mean over all
        // 120 permutations gives the full gradient (each position is a uniform subset).
        let p = LeastSquares::random(5, 2, 0.5, 8).unwrap();
        let x = DVector::from_vec(vec![0.7, -0.3]);
        let full = p.gradient(&x);
        let mut perms: Vec<Vec<usize>> = vec![vec![]];
        for _ in 0..5 {
            let mut next = Vec::new();
            for pre in &perms {
                for i in (0..5).filter(|i| !pre.contains(i)) {
                    let mut p = pre.clone();
                    p.push(i);
                    next.push(p);
                }
            }
            perms = next;
        }
        assert_eq!(perms.len(), 120);
        let mut scratch = DVector::zeros(2);
        let mut g = DVector::zeros(2);
        for (lo, hi) in [(0, 2), (2, 4), (4, 5)] {
            let mut mean = DVector::zeros(2);
            for perm in &perms {
                batch_gradient_into(&p, &perm[lo..hi], &x, &mut scratch, &mut g);
                mean += &g;
            }
            mean /= 120.0;
            // 120 batch means of norm ≤ G summed, plus the ≤ 10 flops of each: γ_130 · G per
            // coordinate, 2 coordinates.
            let big_g = max_example_gradient_norm(&p, &x);
            assert!(
                (&mean - &full).norm() <= 2.0 * gamma(130) * big_g,
                "{mean} vs {full}"
            );
        }
    }

    #[test]
    fn test_mini_batch_oracle_uses_sampler_batches() {
        let p = LeastSquares::random(7, 2, 0.1, 1).unwrap();
        let s = BatchSampler::new(7, 3, LastBatch::Keep, 5).unwrap();
        let mut o = MiniBatchOracle::new(&p, s.clone()).unwrap();
        let mut s2 = s;
        let x = DVector::from_vec(vec![0.1, 0.2]);
        let (mut g, mut expect, mut scratch) = (DVector::zeros(2), DVector::zeros(2), DVector::zeros(2));
        for _ in 0..5 {
            o.gradient_into(&x, &mut g);
            let b = s2.next_batch().to_vec();
            assert_eq!(o.last_batch(), &b[..]);
            batch_gradient_into(&p, &b, &x, &mut scratch, &mut expect);
            assert_eq!(g, expect);
        }
        assert!(MiniBatchOracle::new(&p, BatchSampler::new(6, 3, LastBatch::Keep, 0).unwrap()).is_err());
    }

    #[test]
    fn test_additive_noise_variance() {
        // Monte Carlo: with N draws the sample mean of ‖ξ‖² has standard deviation
        // σ²·√(2/(nN)) (‖ξ‖²·n/σ² is χ²_n); 6 standard deviations gives a 2e-9 false-failure rate.
        let q =
            crate::problems::Quadratic::random_diagonal(10, 1.0, 2.0, crate::problems::Spectrum::Uniform, 0)
                .unwrap();
        let sigma = 3.0;
        let mut o = AdditiveNoiseOracle::new(&q, sigma, 7).unwrap();
        assert_eq!(o.total_variance(), 9.0);
        assert_eq!(o.coordinate_variance(), 0.9);
        let x = DVector::from_element(10, 0.5);
        let exact = q.gradient(&x);
        let n_draws = 20_000;
        let mut g = DVector::zeros(10);
        let mut sum_sq = 0.0;
        let mut sum = DVector::zeros(10);
        for _ in 0..n_draws {
            o.gradient_into(&x, &mut g);
            let xi = &g - &exact;
            sum_sq += xi.norm_squared();
            sum += xi;
        }
        let mean_sq = sum_sq / n_draws as f64;
        let sd = 9.0 * (2.0 / (10.0 * n_draws as f64)).sqrt();
        assert!((mean_sq - 9.0).abs() <= 6.0 * sd, "{mean_sq}");
        // Each coordinate of the mean noise has sd √(0.9/N).
        let coord_sd = (0.9 / n_draws as f64).sqrt();
        assert!((sum / n_draws as f64).amax() <= 6.0 * coord_sd);
        assert!(AdditiveNoiseOracle::new(&q, -1.0, 0).is_err());
    }
}
