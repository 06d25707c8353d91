//! Embeds the project's own documentation (`docs/` and `README.md` at the workspace root) so the
//! binary serves it from any working directory when `DOCS_DIR` is not set.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .parent()
        .expect("crate sits in the workspace")
        .to_path_buf();
    let docs = root.join("docs");
    let readme = root.join("README.md");
    println!("cargo:rerun-if-changed={}", docs.display());
    println!("cargo:rerun-if-changed={}", readme.display());

    let mut files: Vec<(String, PathBuf)> = Vec::new();
    if readme.is_file() {
        files.push(("README.md".into(), readme));
    }
    collect(&docs, &docs, &mut files);
    files.sort();

    let mut out = String::from(
        "/// `(path, Markdown)` of every embedded page: `README.md`, then `docs/` (paths relative to it).\n\
         pub static EMBEDDED_DOCS: &[(&str, &str)] = &[\n",
    );
    for (name, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let target = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("embedded_docs.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}

fn collect(base: &Path, folder: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(base, &path, files);
        } else if name.ends_with(".md") || name.ends_with(".mdx") {
            let relative = path
                .strip_prefix(base)
                .unwrap()
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            files.push((relative, path));
        }
    }
}
