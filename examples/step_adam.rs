//! Step Adam on your own gradient: f(x) = ½‖x − c‖², whose gradient is x − c.
//!
//! `cargo run --example step_adam`

use optverify::prelude::*;

fn main() -> Result<(), StepError> {
    let c = DVector::from_vec(vec![1.0, -2.0, 0.5]);
    let mut x = DVector::zeros(3);
    let mut adam = AdamConfig {
        lr: 0.05,
        ..AdamConfig::paper()
    }
    .build()
    .expect("valid hyperparameters");
    for _ in 0..300 {
        let g = &x - &c;
        adam.step(&mut x, &g)?;
        let t = adam.steps_taken();
        if t % 50 == 0 {
            println!(
                "t = {t:3}: x = [{:+.4}, {:+.4}, {:+.4}], f(x) = {:.3e}",
                x[0],
                x[1],
                x[2],
                0.5 * (&x - &c).norm_squared()
            );
        }
    }
    Ok(())
}
