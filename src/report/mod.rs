//! # Reports
//!
//! Markdown + SVG + JSON writers for the evidence of every claim.
