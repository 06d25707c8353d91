//! Reading `DOCS_DIR` without leaving it or blocking on it.
//!
//! Only regular files are read. A symbolic link is followed only when its target is a regular
//! file inside the folder (so `env.md -> /proc/self/environ` is never served), and folders are
//! entered only when they are real folders, not links. A file is opened non-blocking and checked
//! again on the open handle, so a FIFO or device named `x.md` (or swapped in after the listing)
//! can neither hang start-up nor block reloading. Each file is capped at `DOCS_MAX_PAGE_BYTES`,
//! the folder at `DOCS_MAX_PAGES` and `DOCS_MAX_TOTAL_BYTES` ([`Limits`]); anything refused is
//! skipped and reported, never half-read.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::corpus::CorpusError;
use super::source::{Admission, Limits};

/// A Markdown file to read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MarkdownFile {
    /// Its path below the folder, with `/` separators: the page path clients see.
    pub relative: String,
    /// What to open: the file itself, or the in-folder target of a link.
    pub full: PathBuf,
}

/// What a walk of the folder found.
#[derive(Debug, Default)]
pub struct Listing {
    /// The folder itself, every link resolved: where every file read must stay.
    pub inside: PathBuf,
    /// The files to serve, sorted.
    pub files: Vec<MarkdownFile>,
    /// `(relative path, why)` of Markdown names that are not served.
    pub skipped: Vec<(String, &'static str)>,
}

/// Every Markdown file under `root` that may be served, none over `page_bytes` (hidden folders
/// and `node_modules` are skipped).
pub fn markdown_files(root: &Path, page_bytes: u64) -> Result<Listing, CorpusError> {
    let inside =
        std::fs::canonicalize(root).map_err(|_| CorpusError::NotAFolder(root.to_path_buf()))?;
    let mut listing = Listing {
        inside: inside.clone(),
        ..Listing::default()
    };
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder).map_err(|e| CorpusError::Io(folder.clone(), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| CorpusError::Io(folder.clone(), e))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name == "node_modules" {
                continue;
            }
            // Not followed: a link's own type.
            let file_type = entry
                .file_type()
                .map_err(|e| CorpusError::Io(path.clone(), e))?;
            if file_type.is_dir() {
                folders.push(path);
                continue;
            }
            if !(name.ends_with(".md") || name.ends_with(".mdx")) {
                continue;
            }
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            match admit(&path, file_type, &inside, page_bytes) {
                Ok(full) => listing.files.push(MarkdownFile { relative, full }),
                Err(why) => listing.skipped.push((relative, why)),
            }
        }
    }
    listing.files.sort();
    listing.skipped.sort();
    Ok(listing)
}

/// The path to open for `path`, or why it is not served.
fn admit(
    path: &Path,
    file_type: std::fs::FileType,
    inside: &Path,
    page_bytes: u64,
) -> Result<PathBuf, &'static str> {
    let full = if file_type.is_symlink() {
        let target = std::fs::canonicalize(path).map_err(|_| "a broken symbolic link")?;
        let Ok(below) = target.strip_prefix(inside) else {
            return Err("a symbolic link out of DOCS_DIR");
        };
        // The walk never enters hidden folders or node_modules; neither does a link.
        let hidden = below.components().any(|c| {
            let name = c.as_os_str().to_string_lossy();
            name.starts_with('.') || name == "node_modules"
        });
        if hidden {
            return Err("a symbolic link into a hidden folder or node_modules");
        }
        target
    } else {
        path.to_path_buf()
    };
    // `metadata` never blocks, whatever the file is.
    let metadata = std::fs::metadata(&full).map_err(|_| "unreadable")?;
    if !metadata.is_file() {
        return Err("not a regular file (a FIFO, socket or device)");
    }
    if metadata.len() > page_bytes {
        return Err("larger than DOCS_MAX_PAGE_BYTES");
    }
    Ok(full)
}

/// Reads one listed file: opened non-blocking, checked to be a regular file inside `inside` on
/// the open handle (a folder swapped for a link after the listing is caught there), at most
/// `page_bytes`. `Ok(None)` when it is refused now (it changed since the listing).
pub fn read_page(
    file: &MarkdownFile,
    inside: &Path,
    page_bytes: u64,
) -> Result<Option<String>, CorpusError> {
    let io = |e| CorpusError::Io(file.full.clone(), e);
    let handle = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(&file.full)
        .map_err(io)?;
    let metadata = handle.metadata().map_err(io)?;
    if !metadata.is_file() || metadata.len() > page_bytes {
        return Ok(None);
    }
    let opened = std::fs::read_link(format!("/proc/self/fd/{}", handle.as_raw_fd()));
    if opened.is_ok_and(|path| !path.starts_with(inside)) {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    handle
        .take(page_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > page_bytes {
        return Ok(None);
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

/// Reads every `.md` and `.mdx` file under `root` that [`markdown_files`] admits, in path
/// order while they fit `limits`, as `(path, text)` pairs, with the number of files refused;
/// each refusal is logged at warn. A file past a cap is not read.
pub fn read_folder(
    root: &Path,
    limits: Limits,
) -> Result<(Vec<(String, String)>, usize), CorpusError> {
    if !root.is_dir() {
        return Err(CorpusError::NotAFolder(root.to_path_buf()));
    }
    let listing = markdown_files(root, limits.page_bytes)?;
    for (path, why) in &listing.skipped {
        tracing::warn!(path, why, "Markdown file skipped");
    }
    let mut skipped = listing.skipped.len();
    let mut admission = Admission::new(limits);
    let mut texts = Vec::with_capacity(listing.files.len());
    for file in listing.files {
        let size = std::fs::metadata(&file.full).map_or(0, |m| m.len());
        if let Err(why) = admission.admit(size) {
            tracing::warn!(path = file.relative, why, "Markdown file skipped");
            skipped += 1;
            continue;
        }
        let read = read_page(&file, &listing.inside, limits.page_bytes).unwrap_or_else(|error| {
            tracing::warn!(path = file.relative, %error, "Markdown file skipped: unreadable");
            None
        });
        match read {
            Some(text) => texts.push((file.relative, text)),
            None => {
                tracing::warn!(
                    path = file.relative,
                    "Markdown file skipped: it changed into something not servable"
                );
                skipped += 1;
            }
        }
    }
    if texts.is_empty() {
        return Err(CorpusError::NoMarkdown(root.to_path_buf()));
    }
    Ok((texts, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docs::corpus::Corpus;

    fn folder(name: &str) -> PathBuf {
        let folder =
            std::env::temp_dir().join(format!("docs-folder-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(folder.join("sub")).unwrap();
        std::fs::write(folder.join("good.md"), "# Good\n\nserved\n").unwrap();
        folder
    }

    #[test]
    fn links_out_of_the_folder_fifos_and_huge_files_are_skipped_links_inside_are_served() {
        let root = folder("traps");
        let outside = std::env::temp_dir().join(format!("docs-outside-{}.md", std::process::id()));
        std::fs::write(&outside, "# Secret\n\nnot for clients\n").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("escape.md")).unwrap();
        std::os::unix::fs::symlink("/proc/self/environ", root.join("env.md")).unwrap();
        std::os::unix::fs::symlink(root.join("good.md"), root.join("sub/alias.md")).unwrap();
        std::os::unix::fs::symlink("/", root.join("rootlink")).unwrap();
        std::os::unix::fs::symlink("missing.md", root.join("broken.md")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/config"), "token = secret\n").unwrap();
        std::os::unix::fs::symlink(root.join(".git/config"), root.join("leak.md")).unwrap();
        let fifo = std::ffi::CString::new(root.join("x.md").to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        let huge = std::fs::File::create(root.join("huge.md")).unwrap();
        huge.set_len(Limits::default().page_bytes + 1).unwrap();

        let listing = markdown_files(&root, Limits::default().page_bytes).unwrap();
        let served: Vec<&str> = listing.files.iter().map(|f| f.relative.as_str()).collect();
        assert_eq!(served, ["good.md", "sub/alias.md"]);
        let skipped: Vec<&str> = listing.skipped.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            skipped,
            [
                "broken.md",
                "env.md",
                "escape.md",
                "huge.md",
                "leak.md",
                "x.md"
            ]
        );

        // Loading returns (the FIFO is never opened) and serves only what was admitted.
        let corpus = Corpus::load(&root).unwrap();
        assert_eq!(corpus.pages.len(), 2);
        assert!(corpus.page("escape.md").is_none());
        std::fs::remove_dir_all(&root).unwrap();
        std::fs::remove_file(&outside).unwrap();
    }

    #[test]
    fn a_file_swapped_for_a_fifo_after_the_listing_is_refused_without_blocking() {
        let root = folder("swap");
        let listing = markdown_files(&root, 1 << 20).unwrap();
        let file = &listing.files[0];
        std::fs::remove_file(&file.full).unwrap();
        let fifo = std::ffi::CString::new(file.full.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        assert!(read_page(file, &listing.inside, 1 << 20).unwrap().is_none());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
