//! # Closed forms
//!
//! Rates, bounds and spectral radii of iteration matrices, computed from formulas, never from
//! runs: the `claims` compare runs against these.
//!
//! | file | what |
//! |---|---|
//! | [`rates`] | tuned parameters and the proved rates/bounds of GD, heavy-ball, NAG (with theorem numbers), lower bounds, the μ = 0 bounds |
//! | [`iteration_matrix`] | the 2×2 iteration blocks per Hessian eigenvalue, their closed-form spectral radii (double roots handled), the Jordan mode k·r^k |
//! | [`preconditioning`] | exact-line-search steepest descent: Kantorovich rate and its worst start, Jacobi scaling, Gershgorin's κ bound, the best diagonal scaling (van der Sluis) |
//! | [`prox`] | proximal operators of λ‖·‖₁ (soft threshold), λ‖·‖∞ (clip; Moreau with Duchi et al.'s ℓ¹-ball projection), (λ/2)‖·‖² |
//! | [`weight_decay`] | weight decay along the ReLU rescaling orbit (balancing minimiser), Adam's exact effective-step supremum C_t |
//! | [`adaptive`] | AdaGrad's full-matrix root, Loshchilov & Hutter's Algorithm 2 line by line (with the slide's misprints as switches), SGDR eq. (5) |
//! | [`adagrad_norm`] | Ward, Wu & Bottou's iteration-complexity bounds with exact (rational) ceilings, the N-lemma and summation-lemma sides |

pub mod adagrad_norm;
pub mod adaptive;
pub mod iteration_matrix;
pub mod preconditioning;
pub mod prox;
pub mod rates;
pub mod weight_decay;
