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
///
/// The blocks of a [`Layout`] are checked when the layout is built: their sizes and offsets
/// fit in `usize`. A block built by hand is not; its [`Block::len`] and [`Block::range`]
/// saturate at `usize::MAX` instead of wrapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    pub offset: usize,
}

impl Block {
    /// Number of entries (`rows × cols`, saturating).
    pub fn len(&self) -> usize {
        self.rows.saturating_mul(self.cols)
    }
    /// True when the block has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Index range in the flat vector (its end saturating).
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset.saturating_add(self.len())
    }
}

/// Why a layout cannot be built: a size that does not fit in `usize`, or (deserialised)
/// blocks that are not contiguous from 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// `rows × cols` of a block overflows `usize`.
    #[error("layout block {index} ({name:?}): rows × cols = {rows} × {cols} overflows; valid: a product of at most {max}", max = usize::MAX)]
    BlockOverflow {
        index: usize,
        name: String,
        rows: usize,
        cols: usize,
    },
    /// The total number of parameters overflows `usize`.
    #[error("layout block {index} ({name:?}): the total number of parameters overflows; valid: a total of at most {max}", max = usize::MAX)]
    TotalOverflow { index: usize, name: String },
    /// A deserialised block whose offset is not the end of the previous block.
    #[error("layout block {index} ({name:?}): offset {offset}, expected {expected} (blocks are contiguous from 0)")]
    NotContiguous {
        index: usize,
        name: String,
        offset: usize,
        expected: usize,
    },
}

/// Ordered, contiguous, non-overlapping blocks covering `0..dim`; every size fits in `usize`
/// (checked by the constructors and on deserialisation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "LayoutRepr")]
pub struct Layout {
    blocks: Vec<Block>,
}

/// The serialised form of a [`Layout`], checked by `TryFrom` on the way in.
#[derive(Deserialize)]
struct LayoutRepr {
    blocks: Vec<Block>,
}

impl TryFrom<LayoutRepr> for Layout {
    type Error = LayoutError;

    fn try_from(r: LayoutRepr) -> Result<Self, LayoutError> {
        let layout = Layout::try_from_shapes(r.blocks.iter().map(|b| (b.name.clone(), b.rows, b.cols)))?;
        for (index, (given, built)) in r.blocks.iter().zip(layout.blocks()).enumerate() {
            if given.offset != built.offset {
                return Err(LayoutError::NotContiguous {
                    index,
                    name: given.name.clone(),
                    offset: given.offset,
                    expected: built.offset,
                });
            }
        }
        Ok(layout)
    }
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

    /// Blocks from `(name, rows, cols)` in order; offsets are assigned contiguously. Sizes
    /// are checked: `rows × cols` and the running total must fit in `usize`.
    ///
    /// ```
    /// use optverify::layout::{Layout, LayoutError};
    ///
    /// let l = Layout::try_from_shapes([("w", 3, 2), ("b", 3, 1)]).unwrap();
    /// assert_eq!((l.dim(), l.blocks()[1].offset), (9, 6));
    /// let big = 1usize << 32;
    /// assert!(matches!(
    ///     Layout::try_from_shapes([("w", big, big)]),
    ///     Err(LayoutError::BlockOverflow { index: 0, .. })
    /// ));
    /// ```
    ///
    /// # Errors
    /// [`LayoutError::BlockOverflow`] or [`LayoutError::TotalOverflow`] naming the block.
    pub fn try_from_shapes<S: Into<String>>(
        shapes: impl IntoIterator<Item = (S, usize, usize)>,
    ) -> Result<Self, LayoutError> {
        let mut offset = 0usize;
        let mut blocks = Vec::new();
        for (index, (name, rows, cols)) in shapes.into_iter().enumerate() {
            let name: String = name.into();
            let Some(len) = rows.checked_mul(cols) else {
                return Err(LayoutError::BlockOverflow {
                    index,
                    name,
                    rows,
                    cols,
                });
            };
            let Some(end) = offset.checked_add(len) else {
                return Err(LayoutError::TotalOverflow { index, name });
            };
            blocks.push(Block {
                name,
                rows,
                cols,
                offset,
            });
            offset = end;
        }
        Ok(Layout { blocks })
    }

    /// [`Layout::try_from_shapes`] for shapes known to fit (the crate's own problems): sizes
    /// are checked all the same, never wrapped.
    ///
    /// # Panics
    /// If `rows × cols` of a block or the total overflows `usize` (the message names the
    /// block); input from outside the program goes through [`Layout::try_from_shapes`].
    pub fn from_shapes<S: Into<String>>(shapes: impl IntoIterator<Item = (S, usize, usize)>) -> Self {
        match Self::try_from_shapes(shapes) {
            Ok(l) => l,
            Err(e) => panic!("Layout::from_shapes: {e}"),
        }
    }

    /// The blocks in order.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// Total number of parameters (fits in `usize`: checked when the layout was built).
    pub fn dim(&self) -> usize {
        self.blocks.last().map_or(0, |b| b.offset + b.len())
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

    #[test]
    fn try_from_shapes_refuses_sizes_that_overflow() {
        let big = 1usize << 32;
        // 2³² × 2³² wraps to 0 on 64 bits: refused, naming the block.
        let e = Layout::try_from_shapes([("ok", 2, 2), ("w", big, big)]).unwrap_err();
        assert_eq!(
            e,
            LayoutError::BlockOverflow {
                index: 1,
                name: "w".into(),
                rows: big,
                cols: big
            }
        );
        assert!(e.to_string().contains("overflows; valid"), "{e}");
        // Each block fits, the total does not.
        let half = usize::MAX / 2 + 1;
        let e = Layout::try_from_shapes([("a", half, 1), ("b", half, 1)]).unwrap_err();
        assert!(matches!(e, LayoutError::TotalOverflow { index: 1, .. }), "{e}");
        // The largest total that fits is accepted.
        let l = Layout::try_from_shapes([("a", usize::MAX - 1, 1), ("b", 1, 1)]).unwrap();
        assert_eq!(l.dim(), usize::MAX);
    }

    #[test]
    #[should_panic(expected = "Layout::from_shapes: layout block 0")]
    fn from_shapes_panics_with_the_block_rather_than_wrapping() {
        let _ = Layout::from_shapes([("w", 1usize << 32, 1usize << 32)]);
    }

    #[test]
    fn hand_built_block_saturates() {
        let b = Block {
            name: "w".into(),
            rows: usize::MAX,
            cols: 2,
            offset: 5,
        };
        assert_eq!(b.len(), usize::MAX);
        assert_eq!(b.range(), 5..usize::MAX);
    }

    #[test]
    fn deserialisation_checks_sizes_and_offsets() {
        let l = Layout::from_shapes([("w", 3, 2), ("b", 3, 1)]);
        let json = serde_json::to_string(&l).unwrap();
        assert_eq!(serde_json::from_str::<Layout>(&json).unwrap(), l);
        let gap = json.replace("\"offset\":6", "\"offset\":7");
        let e = serde_json::from_str::<Layout>(&gap).unwrap_err();
        assert!(e.to_string().contains("offset 7, expected 6"), "{e}");
        let big = format!(
            r#"{{"blocks":[{{"name":"w","rows":{b},"cols":{b},"offset":0}}]}}"#,
            b = 1u64 << 32
        );
        let e = serde_json::from_str::<Layout>(&big).unwrap_err();
        assert!(e.to_string().contains("overflows"), "{e}");
    }
}
