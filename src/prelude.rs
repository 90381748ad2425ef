//! # Prelude
//!
//! `use optverify::prelude::*;` brings what stepping an optimizer on your own gradients
//! needs: the [`Optimizer`] trait, every optimizer with its config, the convention enums, the
//! parameter [`Layout`], the error types, and [`DVector`] for the parameters.
//!
//! ```
//! use optverify::prelude::*;
//!
//! let mut adam = AdamConfig { lr: 0.1, ..AdamConfig::paper() }.build().unwrap();
//! let mut x = DVector::from_vec(vec![1.0, -2.0]);
//! adam.step(&mut x, &DVector::from_vec(vec![0.5, -0.5])).unwrap();
//! // Adam's first step moves every coordinate by lr against the gradient's sign (to ε).
//! // (ε = 1e-8 shortens the step by lr·ε/|g| = 2e-9 here.)
//! assert!((x[0] - 0.9).abs() < 3e-9 && (x[1] + 1.9).abs() < 3e-9);
//! assert_eq!(adam.steps_taken(), 1);
//! ```

pub use crate::error::{HyperError, StepError};
pub use crate::layout::{Block, Layout};
pub use crate::optim::adadelta::{AdaDelta, AdaDeltaConfig};
pub use crate::optim::adafactor::{Adafactor, AdafactorConfig};
pub use crate::optim::adagrad::{AdaGrad, AdaGradConfig};
pub use crate::optim::adagrad_norm::{AdaGradNorm, AdaGradNormConfig};
pub use crate::optim::adam::{Adam, AdamConfig};
pub use crate::optim::adamw::{AdamW, AdamWConfig};
pub use crate::optim::conventions::{AdamFormulation, AmsGradMax, BiasCorrection, EpsPlacement, WeightDecay};
pub use crate::optim::heavy_ball::{HeavyBall, HeavyBallConfig};
pub use crate::optim::kfac::{Kfac, KfacConfig};
pub use crate::optim::lamb::{Lamb, LambConfig};
pub use crate::optim::lars::{Lars, LarsConfig};
pub use crate::optim::nadam::{NAdam, NAdamConfig};
pub use crate::optim::nesterov::{Nesterov, NesterovConfig, NesterovForm};
pub use crate::optim::radam::{RAdam, RAdamConfig};
pub use crate::optim::rmsprop::{RmsProp, RmsPropConfig};
pub use crate::optim::schedule::Schedule;
pub use crate::optim::sgd::{Sgd, SgdConfig};
pub use crate::optim::Optimizer;
pub use nalgebra::DVector;
