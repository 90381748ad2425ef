//! The module graph has no cycle between the optimizers and the problems: `problems` (and the
//! shared `layout`) never import from `optim`, so a problem can be read, tested and reused
//! without the optimizers, and the optimizers see problems only through the interfaces
//! (`GradientOracle`, `KfacModel`) that `problems` exposes.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn problems_and_layout_never_import_optim() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root.join("layout.rs")];
    rust_files(&root.join("problems"), &mut files);
    assert!(files.len() > 5, "found {} files", files.len());
    let mut offenders = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("readable file");
        for (i, line) in text.lines().enumerate() {
            if line.contains("crate::optim") || line.contains("super::super::optim") {
                offenders.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "problems → optim imports:\n{}",
        offenders.join("\n")
    );
}
