//! Where the documentation comes from (`DOCS_DIR`: empty, a folder, or `s3://bucket/prefix/`),
//! the limits every source reads under, and what the sources share: the rule for which paths
//! may be pages, and the version that names a set of pages.

use std::fmt;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

/// `DOCS_DIR` when it is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocsSource {
    /// A folder on the task's disk.
    Folder(PathBuf),
    /// Objects under a prefix of an S3 bucket.
    S3(S3Location),
}

/// `s3://bucket/prefix/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Empty (the whole bucket) or ending with `/`.
    pub prefix: String,
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

impl DocsSource {
    /// Reads `DOCS_DIR`: `s3://bucket[/prefix]` names S3, anything else a folder.
    pub fn parse(text: &str) -> Result<DocsSource, String> {
        let Some(rest) = text.strip_prefix("s3://") else {
            if text.to_ascii_lowercase().starts_with("s3:") {
                return Err("expected s3://bucket/prefix/ (two slashes, lower-case s3)".into());
            }
            return Ok(DocsSource::Folder(PathBuf::from(text)));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if !valid_bucket(bucket) {
            return Err(format!(
                "'{bucket}' is not an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit)"
            ));
        }
        let prefix = prefix.trim_start_matches('/');
        let prefix = if prefix.is_empty() || prefix.ends_with('/') {
            prefix.to_string()
        } else {
            format!("{prefix}/")
        };
        if prefix.split('/').any(|part| part == "." || part == "..")
            || prefix.contains("//")
            || prefix.chars().any(char::is_control)
        {
            return Err(format!(
                "the prefix '{prefix}' has an empty, '.' or '..' part, or a control character"
            ));
        }
        Ok(DocsSource::S3(S3Location {
            bucket: bucket.to_string(),
            prefix,
        }))
    }
}

/// S3's rule for bucket names (general purpose buckets).
fn valid_bucket(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && !name.contains("..")
}

/// How much of a source is read: pages past a cap are skipped (and logged), never half-read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Pages served at most (`DOCS_MAX_PAGES`); the first in path order are kept.
    pub pages: usize,
    /// Bytes one page may have (`DOCS_MAX_PAGE_BYTES`).
    pub page_bytes: u64,
    /// Bytes all pages together may have (`DOCS_MAX_TOTAL_BYTES`).
    pub total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            pages: 10_000,
            page_bytes: 8 << 20,
            total_bytes: 128 << 20,
        }
    }
}

/// Keeps pages, in path order, while they fit the count and total caps.
#[derive(Debug)]
pub struct Admission {
    limits: Limits,
    pages: usize,
    bytes: u64,
}

impl Admission {
    pub fn new(limits: Limits) -> Admission {
        Admission {
            limits,
            pages: 0,
            bytes: 0,
        }
    }

    /// Whether a page of `size` bytes is served, or why not.
    pub fn admit(&mut self, size: u64) -> Result<(), &'static str> {
        if size > self.limits.page_bytes {
            return Err("larger than DOCS_MAX_PAGE_BYTES");
        }
        if self.pages >= self.limits.pages {
            return Err("past DOCS_MAX_PAGES");
        }
        if self.bytes.saturating_add(size) > self.limits.total_bytes {
            return Err("past DOCS_MAX_TOTAL_BYTES");
        }
        self.pages += 1;
        self.bytes += size;
        Ok(())
    }
}

/// Whether `path` (relative to the corpus root, `/`-separated) may be a page: a `.md` or `.mdx`
/// name, no empty, `.` or `..` part, no part that is hidden (`.git/...`) or `node_modules`, no
/// backslash or control character, and no `?` or `#` (a page's `docs://` URI would read them
/// as its query or fragment). The rule a folder walk follows, applied to S3 keys, where
/// nothing stops a key from being `../../etc/passwd.md`.
pub fn servable_path(path: &str) -> Result<(), &'static str> {
    if !(path.ends_with(".md") || path.ends_with(".mdx")) {
        return Err("not Markdown");
    }
    if path.contains(['\\', '?', '#']) || path.chars().any(char::is_control) {
        return Err("a backslash, '?', '#' or control character in the path");
    }
    for part in path.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return Err("an empty, '.' or '..' part in the path (it would leave the corpus)");
        }
        if part.starts_with('.') || part == "node_modules" {
            return Err("in a hidden folder or node_modules");
        }
    }
    Ok(())
}

/// The version of a set of pages: the first 16 hex digits of a SHA-256 over every path and
/// text, in path order. The same pages give the same version on every task.
pub fn content_version<'a>(pages: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut sorted: Vec<(&str, &str)> = pages.into_iter().collect();
    sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut hash = Sha256::new();
    for (path, text) in sorted {
        hash.update((path.len() as u64).to_le_bytes());
        hash.update(path.as_bytes());
        hash.update((text.len() as u64).to_le_bytes());
        hash.update(text.as_bytes());
    }
    hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn docs_dir_names_a_folder_or_an_s3_prefix() {
        assert_eq!(
            DocsSource::parse("/srv/docs").unwrap(),
            DocsSource::Folder("/srv/docs".into())
        );
        let s3 = |bucket: &str, prefix: &str| {
            DocsSource::S3(S3Location {
                bucket: bucket.into(),
                prefix: prefix.into(),
            })
        };
        assert_eq!(
            DocsSource::parse("s3://docs-bucket").unwrap(),
            s3("docs-bucket", "")
        );
        assert_eq!(
            DocsSource::parse("s3://docs-bucket/").unwrap(),
            s3("docs-bucket", "")
        );
        assert_eq!(
            DocsSource::parse("s3://my.docs/site/v2").unwrap(),
            s3("my.docs", "site/v2/")
        );
        let DocsSource::S3(location) = DocsSource::parse("s3://my.docs/site/").unwrap() else {
            panic!("an S3 location");
        };
        assert_eq!(location.to_string(), "s3://my.docs/site/");
        for bad in [
            "s3://",
            "s3://ab",
            "s3://Upper",
            "s3://-lead",
            "s3://a..b",
            "s3://under_score",
            "s3://b/../x",
            "s3://bucket/a//b",
            "s3://bucket/./",
            "S3://bucket/x",
            "s3:/bucket",
        ] {
            assert!(DocsSource::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_that_leave_the_corpus_or_hide_are_not_pages() {
        for good in ["a.md", "guide/setup.mdx", "v1.2/ja/page.ja.md", "a b/c.md"] {
            assert_eq!(servable_path(good), Ok(()), "{good}");
        }
        for bad in [
            "../etc/passwd.md",
            "a/../../b.md",
            "/abs.md",
            "a//b.md",
            "./a.md",
            ".git/x.md",
            "node_modules/pkg/README.md",
            "a\\..\\b.md",
            "a\u{0}.md",
            "x.md?section=y.md",
            "a#b.md",
            "readme.txt",
            "folder/",
            "",
        ] {
            assert!(servable_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn admission_keeps_pages_in_order_until_a_cap() {
        let mut admission = Admission::new(Limits {
            pages: 3,
            page_bytes: 10,
            total_bytes: 20,
        });
        assert_eq!(admission.admit(11), Err("larger than DOCS_MAX_PAGE_BYTES"));
        assert_eq!(admission.admit(10), Ok(()));
        assert_eq!(admission.admit(10), Ok(()));
        assert_eq!(admission.admit(1), Err("past DOCS_MAX_TOTAL_BYTES"));
        assert_eq!(admission.admit(0), Ok(()));
        assert_eq!(admission.admit(0), Err("past DOCS_MAX_PAGES"));
    }

    #[test]
    fn the_version_follows_the_content_not_the_order() {
        let one = content_version([("a.md", "x"), ("b.md", "y")]);
        assert_eq!(one, content_version([("b.md", "y"), ("a.md", "x")]));
        assert_eq!(one.len(), 16);
        assert_ne!(one, content_version([("a.md", "x"), ("b.md", "z")]));
        // Lengths are hashed, so text cannot move between path and body unnoticed.
        assert_ne!(
            content_version([("a.md", "bc")]),
            content_version([("a.mdb", "c")])
        );
    }

    proptest! {
        /// Whatever a key is, a servable one stays below the root: no part climbs out.
        #[test]
        fn a_servable_path_never_climbs(path in "[a-z./\\\\]{0,12}(\\.md)?") {
            if servable_path(&path).is_ok() {
                let mut depth = 0i32;
                for part in path.split('/') {
                    match part {
                        ".." => depth -= 1,
                        "." | "" => {}
                        _ => depth += 1,
                    }
                    prop_assert!(depth >= 0);
                }
                prop_assert!(!path.starts_with('/'));
            }
        }
    }
}
