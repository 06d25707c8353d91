//! Versions and languages of one page, recognised from its path, so that a search returns each
//! answer once.
//!
//! A version is a path segment that matches `DOCS_VERSION_PATTERN` as a whole (by default
//! `v1.2`, `1.2.3`, `1.x`, pre-releases such as `v2.0-rc1` and `1.0.0-beta.1`, `version-2.1`,
//! dates such as `2025-06-18`, and `draft`, `next`, `latest`, `stable`, `current`,
//! `unreleased`, `main`, `master`; not `dev`, a common name of a developers' section). A language is the first capture group of
//! `DOCS_LANGUAGE_PATTERN` anywhere in the path (by default the suffix of `page.ja.md`). A page's
//! key is its path without both (and Docusaurus's `versioned_docs/` before a version read as
//! `docs/`); pages with one key are variants of each other.
//!
//! A view picks one variant per key: the asked language (else `DOCS_LANGUAGE`), else a page
//! with no language, else any; and the asked version (pages without one belong to every
//! version), else `DOCS_VERSION`, else the newest released one: `latest`, `stable` and
//! `current` above numbers and dates, which sort as numbers, and unreleased ones (`draft`,
//! `next`, `unreleased`, `main`, `master`, `dev` with a pattern that takes it, and
//! pre-releases, by their release, then stage, then number) only when a page has nothing
//! else.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;

/// `DOCS_VERSION_PATTERN`'s default.
pub const DEFAULT_VERSION_PATTERN: &str = r"^(?:(?:v\d+(?:\.\d+)*|\d+\.\d+(?:\.\d+)*)(?:\.x)?(?:-(?i:alpha|beta|rc|pre|preview|dev|snapshot)(?:\.?\d+)*)?|\d+\.x|version-[\w.-]+|\d{4}-\d{2}-\d{2}|draft|next|latest|stable|current|unreleased|main|master)$";
/// `DOCS_LANGUAGE_PATTERN`'s default.
pub const DEFAULT_LANGUAGE_PATTERN: &str = r"\.([a-z]{2}(?:[-_][A-Za-z]{2,4})?)\.mdx?$";

/// How variants are recognised and which one a search shows by default.
#[derive(Debug, Clone)]
pub struct VariantRules {
    version: Regex,
    language: Regex,
    /// `DOCS_LANGUAGE`.
    pub default_language: String,
    /// `DOCS_VERSION`, when set.
    pub default_version: Option<String>,
}

impl Default for VariantRules {
    fn default() -> Self {
        VariantRules::new(
            DEFAULT_VERSION_PATTERN,
            DEFAULT_LANGUAGE_PATTERN,
            "en",
            None,
        )
        .expect("the default patterns are valid")
    }
}

/// A page's place among its variants.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Variant {
    /// The path without version and language: the same for every variant.
    pub key: String,
    /// The version segment, if any.
    pub version: Option<String>,
    /// The language, if any.
    pub language: Option<String>,
}

impl VariantRules {
    /// Rules from the two patterns and the defaults; a language pattern needs one capture group.
    pub fn new(
        version_pattern: &str,
        language_pattern: &str,
        default_language: &str,
        default_version: Option<&str>,
    ) -> Result<VariantRules, String> {
        // A whole folder name, as documented, whether or not the pattern anchors itself. A
        // pattern in `(?x)` mode may end in a `# comment`, which would swallow the closing
        // `)$`: a line break ends the comment (and is nothing else in that mode).
        let invalid = |e| format!("DOCS_VERSION_PATTERN is not a valid regex: {e}");
        Regex::new(version_pattern).map_err(invalid)?;
        let version = Regex::new(&format!("^(?:{version_pattern})$"))
            .or_else(|_| Regex::new(&format!("^(?:{version_pattern}\n)$")))
            .map_err(invalid)?;
        let language = Regex::new(language_pattern)
            .map_err(|e| format!("DOCS_LANGUAGE_PATTERN is not a valid regex: {e}"))?;
        if language.captures_len() < 2 {
            return Err("DOCS_LANGUAGE_PATTERN needs a capture group around the language".into());
        }
        Ok(VariantRules {
            version,
            language,
            default_language: default_language.to_string(),
            default_version: default_version.map(str::to_string),
        })
    }

    /// The variant `path` is.
    pub fn variant(&self, path: &str) -> Variant {
        self.variant_in(path).0
    }

    /// The variants of a corpus's pages, in order. In a Docusaurus site (pages under
    /// `versioned_docs/<version>/`), the current docs beside them (`docs/`) are its unreleased
    /// version, `next`, as Docusaurus labels them: a search shows the newest released version
    /// of a page by default, and a page only in `docs/` is in no released version.
    pub fn variants<'p>(&self, paths: impl IntoIterator<Item = &'p str>) -> Vec<Variant> {
        let mut current_docs: BTreeSet<String> = BTreeSet::new();
        let mut variants: Vec<Variant> = paths
            .into_iter()
            .map(|path| {
                let (variant, current) = self.variant_in(path);
                current_docs.extend(current);
                variant
            })
            .collect();
        for variant in variants.iter_mut().filter(|v| v.version.is_none()) {
            if current_docs
                .iter()
                .any(|folder| variant.key.starts_with(folder.as_str()))
            {
                variant.version = Some("next".to_string());
            }
        }
        variants
    }

    /// The variant `path` is, and, when it is in Docusaurus's `versioned_<id>/<version>/`, the
    /// folder of the current docs it is a version of (`<id>/`, with the folders above it).
    fn variant_in(&self, path: &str) -> (Variant, Option<String>) {
        let mut key = path.to_string();
        let mut language = None;
        if let Some(group) = self.language.captures(path).and_then(|c| c.get(1)) {
            language = Some(group.as_str().to_string());
            let (mut start, mut end) = (group.start(), group.end());
            // Take one separator with it: `page.ja.md` -> `page.md`, `ja/page.md` -> `page.md`.
            if start > 0 && matches!(&path[start - 1..start], "." | "/") {
                start -= 1;
            } else if matches!(path.get(end..end + 1), Some("." | "/")) {
                end += 1;
            }
            key.replace_range(start..end, "");
        }
        let mut version = None;
        let mut current_docs = None;
        let segments: Vec<&str> = key.split('/').collect();
        let last = segments.len().saturating_sub(1);
        let mut kept: Vec<&str> = Vec::with_capacity(segments.len());
        for (i, segment) in segments.iter().enumerate() {
            if version.is_none() && i < last && self.version.is_match(segment) {
                version = Some(segment.to_string());
                // Docusaurus keeps the current docs in `docs/` and older versions in
                // `versioned_docs/version-2.1/` (`versioned_<id>` for another docs instance):
                // the same page in both.
                if let Some(parent) = kept.last_mut()
                    && let Some(current) = parent.strip_prefix("versioned_")
                    && !current.is_empty()
                {
                    *parent = current;
                    current_docs = Some(format!("{}/", kept.join("/")));
                }
                continue;
            }
            kept.push(segment);
        }
        let variant = Variant {
            key: kept.join("/"),
            version,
            language,
        };
        (variant, current_docs)
    }
}

/// How a version sorts: unreleased below released, `latest`-like above numbered, numbers as
/// numbers; a pre-release by its release's numbers, then its stage (`dev` and `snapshot`,
/// `alpha`, `beta`, `pre` and `preview`, `rc`), then the stage's numbers.
fn rank(version: Option<&str>) -> (u8, Vec<u64>, u8, Vec<u64>) {
    let Some(version) = version else {
        return (3, Vec::new(), 0, Vec::new());
    };
    let lower = version.to_ascii_lowercase();
    if matches!(lower.as_str(), "latest" | "stable" | "current") {
        return (2, Vec::new(), 0, Vec::new());
    }
    // Runs of letters and runs of digits: `v2.0-rc1` is v, 2, 0, rc, 1. A stage is a whole
    // run of letters, so `previous` or `devices` is none.
    let kind = |b: u8| {
        if b.is_ascii_digit() {
            1
        } else if b.is_ascii_alphabetic() {
            2
        } else {
            0
        }
    };
    let bytes = lower.as_bytes();
    let mut runs = Vec::new();
    let mut start = 0;
    for end in 1..=bytes.len() {
        if end == bytes.len() || kind(bytes[end]) != kind(bytes[start]) {
            // Runs of ASCII bytes: whole characters, as other characters are never runs'
            // ends (their bytes are all of kind 0).
            runs.push(&lower[start..end]);
            start = end;
        }
    }
    let mut release = Vec::new();
    let mut stage = None;
    let mut after = Vec::new();
    for piece in runs {
        if kind(piece.as_bytes()[0]) == 0 {
            continue;
        }
        if kind(piece.as_bytes()[0]) == 1 {
            let number = piece.parse().unwrap_or(u64::MAX);
            if stage.is_some() {
                after.push(number);
            } else {
                release.push(number);
            }
        } else if stage.is_none() {
            stage = match piece {
                "dev" | "snapshot" => Some(1),
                "alpha" => Some(2),
                "beta" => Some(3),
                "pre" | "preview" => Some(4),
                "rc" => Some(5),
                _ => None,
            };
        }
    }
    let unreleased = ["draft", "next", "unreleased", "main", "master", "dev"];
    match stage {
        _ if unreleased.contains(&lower.as_str()) => (0, release, 0, after),
        Some(stage) => (0, release, stage, after),
        None => (1, release, 0, after),
    }
}

/// Orders versions oldest first.
pub fn compare(a: &str, b: &str) -> Ordering {
    rank(Some(a)).cmp(&rank(Some(b))).then(a.cmp(b))
}

/// Which pages one search looks at: one variant per key.
pub fn choose(
    variants: &[Variant],
    rules: &VariantRules,
    version: Option<&str>,
    language: Option<&str>,
) -> Vec<bool> {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, variant) in variants.iter().enumerate() {
        groups.entry(variant.key.as_str()).or_default().push(i);
    }
    let wanted_language = language.unwrap_or(&rules.default_language);
    let wanted_version = version.or(rules.default_version.as_deref());
    let mut chosen = vec![false; variants.len()];
    for pages in groups.values() {
        let lang = |i: &usize| variants[*i].language.as_deref();
        let mut candidates: Vec<usize> = pages
            .iter()
            .copied()
            .filter(|i| lang(i) == Some(wanted_language))
            .collect();
        if candidates.is_empty() {
            candidates = pages
                .iter()
                .copied()
                .filter(|i| lang(i).is_none())
                .collect();
        }
        if candidates.is_empty() && language.is_none() {
            candidates = pages.clone();
        }
        let version_of = |i: &usize| variants[*i].version.as_deref();
        let best = match wanted_version {
            Some(wanted) => candidates
                .iter()
                .copied()
                .filter(|i| version_of(i).is_none_or(|v| v == wanted))
                .min_by_key(|i| (version_of(i).is_none(), lang(i) != Some(wanted_language))),
            None => candidates.iter().copied().max_by(|a, b| {
                rank(version_of(a))
                    .cmp(&rank(version_of(b)))
                    .then(
                        (lang(a) == Some(wanted_language)).cmp(&(lang(b) == Some(wanted_language))),
                    )
                    .then(b.cmp(a))
            }),
        };
        if let Some(best) = best {
            chosen[best] = true;
        }
    }
    chosen
}

/// Every version and every language in the corpus, versions oldest first.
pub fn known(variants: &[Variant]) -> (Vec<String>, Vec<String>) {
    let mut versions: Vec<String> = variants
        .iter()
        .filter_map(|v| v.version.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    versions.sort_by(|a, b| compare(a, b));
    let languages = variants
        .iter()
        .filter_map(|v| v.language.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    (versions, languages)
}

#[cfg(test)]
mod tests;
