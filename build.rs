// Embed every theorems/*.md card into the crate, so the binary is self-contained and a test
// can assert that cards and checkers match one to one.
use std::{env, fs, path::Path};

fn main() {
    let dir = Path::new("theorems");
    println!("cargo:rerun-if-changed=theorems");
    let mut files: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                // README.md (reading policy) and COVERAGE.md (lecture → cards) are not cards.
                .filter(|n| n.ends_with(".md") && n != "README.md" && n != "COVERAGE.md")
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from(
        "/// (file name, text) of every theorem card.\npub static CARD_SOURCES: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed=theorems/{f}");
        let abs = fs::canonicalize(dir.join(f)).expect("card path");
        out.push_str(&format!(
            "    ({f:?}, include_str!({:?})),\n",
            abs.display().to_string()
        ));
    }
    out.push_str("];\n");
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join("cards.rs"), out).unwrap();
}
