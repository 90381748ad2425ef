//! To be written (see problems/mod.rs).
