//! Parameter layout: named blocks of one flat parameter vector.
//!
//! Parameters are one contiguous `DVector<f64>`. A [`Layout`] names its blocks (a weight
//! matrix, a bias) with their shapes. Element-wise optimizers ignore it; layer-wise methods
//! (LARS, LAMB) take per-block norms, factored ones (Adafactor, K-FAC) per-block row and column
//! statistics. Matrices are stored **row-major** inside their block, as PyTorch flattens a
//! tensor, so a trace flattens parameters in the layout's block order and row-major within.

use crate::error::StepError;
use serde::{Deserialize, Serialize};

/// One named block: `rows × cols` entries starting at `offset` (a vector has `cols = 1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    pub offset: usize,
}

impl Block {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }
    /// True when the block has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Index range in the flat vector.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len()
    }
}

/// Ordered, contiguous, non-overlapping blocks covering `0..dim`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    blocks: Vec<Block>,
}

impl Layout {
    /// A single vector block named `"params"` of length `dim`.
    pub fn flat(dim: usize) -> Self {
        Layout {
            blocks: vec![Block {
                name: "params".into(),
                rows: dim,
                cols: 1,
                offset: 0,
            }],
        }
    }

    /// Blocks from `(name, rows, cols)` in order; offsets are assigned contiguously.
    pub fn from_shapes<S: Into<String>>(shapes: impl IntoIterator<Item = (S, usize, usize)>) -> Self {
        let mut offset = 0;
        let blocks = shapes
            .into_iter()
            .map(|(name, rows, cols)| {
                let b = Block {
                    name: name.into(),
                    rows,
                    cols,
                    offset,
                };
                offset += rows * cols;
                b
            })
            .collect();
        Layout { blocks }
    }

    /// The blocks in order.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// Total number of parameters.
    pub fn dim(&self) -> usize {
        self.blocks.iter().map(Block::len).sum()
    }

    /// Check that this layout covers exactly `dim` parameters.
    pub fn check_dim(&self, dim: usize) -> Result<(), StepError> {
        if self.dim() == dim {
            Ok(())
        } else {
            Err(StepError::DimensionMismatch {
                what: "layout",
                expected: dim,
                got: self.dim(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_shapes_assigns_contiguous_offsets() {
        let l = Layout::from_shapes([("w1", 3, 2), ("b1", 3, 1), ("w2", 1, 3)]);
        let offsets: Vec<usize> = l.blocks().iter().map(|b| b.offset).collect();
        assert_eq!(offsets, vec![0, 6, 9]);
        assert_eq!(l.dim(), 12);
        assert!(l.check_dim(12).is_ok());
        assert!(l.check_dim(11).is_err());
    }
}
