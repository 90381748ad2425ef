//! Writing a report directory: `README.md`, `claims/<id>.md`, `figures/*.svg`, `results.json`.

use super::markdown::{claim_page, figure_path, index, page_path};
use super::record::Results;
use super::svg::{render, PlotError};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Plot(#[from] PlotError),
    #[error("two figures would be written to {0}: give the figures of a claim distinct ids")]
    DuplicateFigure(String),
}

/// Every file of a report: relative path → contents, in path order.
pub fn render_files(results: &Results) -> Result<Vec<(String, String)>, WriteError> {
    let mut files = vec![("README.md".to_string(), index(results))];
    let mut figure_paths = BTreeSet::new();
    for c in &results.claims {
        files.push((page_path(&c.card.id), claim_page(c, results)));
        for fig in c.evidence.iter().flat_map(|e| &e.figures) {
            let path = figure_path(&c.card.id, fig);
            if !figure_paths.insert(path.clone()) {
                return Err(WriteError::DuplicateFigure(path));
            }
            files.push((path, render(fig)?));
        }
    }
    files.push(("results.json".to_string(), results.to_json()));
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// Write the report of `results` under `dir` (created if needed) and return the paths written.
///
/// Pages under `dir/claims/` (`*.md`) and figures under `dir/figures/` (`*.svg`) that this
/// report does not contain are removed, so a renamed claim or figure leaves nothing stale.
/// Nothing else in `dir` is touched.
///
/// # Errors
/// A file cannot be written, or a figure cannot be drawn (nothing is written then).
pub fn write_report(dir: &Path, results: &Results) -> Result<Vec<PathBuf>, WriteError> {
    let files = render_files(results)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError::Io { path, source }
    };
    for sub in ["claims", "figures"] {
        let d = dir.join(sub);
        fs::create_dir_all(&d).map_err(io(&d))?;
    }
    let wanted: BTreeSet<PathBuf> = files.iter().map(|(p, _)| dir.join(p)).collect();
    for (sub, ext) in [("claims", "md"), ("figures", "svg")] {
        let d = dir.join(sub);
        for entry in fs::read_dir(&d).map_err(io(&d))? {
            let path = entry.map_err(io(&d))?.path();
            if path.extension().is_some_and(|e| e == ext) && path.is_file() && !wanted.contains(&path) {
                fs::remove_file(&path).map_err(io(&path))?;
            }
        }
    }
    let mut written = Vec::new();
    for (rel, text) in files {
        let path = dir.join(rel);
        // Leave an unchanged file alone (keeps its modification time for make-like tools).
        if fs::read(&path).ok().as_deref() != Some(text.as_bytes()) {
            fs::write(&path, text).map_err(io(&path))?;
        }
        written.push(path);
    }
    Ok(written)
}
