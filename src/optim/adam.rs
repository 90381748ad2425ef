//! To be written (see optim/mod.rs).
