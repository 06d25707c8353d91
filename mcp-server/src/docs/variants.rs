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
mod tests {
    use super::*;

    fn paths(chosen: &[bool], all: &[&str]) -> Vec<String> {
        all.iter()
            .zip(chosen)
            .filter(|(_, c)| **c)
            .map(|(p, _)| p.to_string())
            .collect()
    }

    #[test]
    fn versions_and_languages_come_from_the_path() {
        let rules = VariantRules::default();
        let v = rules.variant("specification/2025-06-18/basic/index.mdx");
        assert_eq!(v.key, "specification/basic/index.mdx");
        assert_eq!(v.version.as_deref(), Some("2025-06-18"));
        let v = rules.variant("docs/manifest/lb.ja.md");
        assert_eq!(
            (v.key.as_str(), v.language.as_deref()),
            ("docs/manifest/lb.md", Some("ja"))
        );
        let v = rules.variant("v1.2/2.0.md");
        assert_eq!(
            (v.key.as_str(), v.version.as_deref()),
            ("2.0.md", Some("v1.2")),
            "a file name is never a version"
        );
        assert_eq!(rules.variant("guide/setup.md").version, None);
        for version in [
            "v2",
            "v2.0",
            "2.0.1",
            "1.x",
            "v2.0-rc1",
            "1.0.0-beta.1",
            "v3.1-RC.2",
            "2.0-snapshot",
            "version-2.1",
            "main",
            "master",
            "next",
        ] {
            let v = rules.variant(&format!("docs/{version}/guide.md"));
            assert_eq!(
                (v.key.as_str(), v.version.as_deref()),
                ("docs/guide.md", Some(version))
            );
        }
        for folder in ["dev", "v1-guide", "2.0-notes", "api", "mainframe", "v2beta"] {
            assert_eq!(
                rules.variant(&format!("docs/{folder}/guide.md")).version,
                None,
                "{folder}"
            );
        }
    }

    #[test]
    fn docusaurus_versions_are_variants_of_the_current_docs() {
        let rules = VariantRules::default();
        let all = [
            "docs/intro.md",
            "versioned_docs/version-2.1/intro.md",
            "versioned_docs/version-1.0/intro.md",
            "versioned_community/version-1.0/support.md",
            "community/support.md",
            "versioned_docs/version-1.0/gone.md",
            "docs/new.md",
        ];
        let variants = rules.variants(all);
        assert_eq!(variants[1].key, "docs/intro.md");
        assert_eq!(variants[1].version.as_deref(), Some("version-2.1"));
        assert_eq!(variants[3].key, "community/support.md");
        // The current docs are `next`, as Docusaurus labels them: by default the newest
        // released version of each page; `next` when asked for, or for a page only there.
        assert_eq!(variants[0].version.as_deref(), Some("next"));
        assert_eq!(variants[4].version.as_deref(), Some("next"));
        assert_eq!(
            paths(&choose(&variants, &rules, None, None), &all),
            [
                "versioned_docs/version-2.1/intro.md",
                "versioned_community/version-1.0/support.md",
                "versioned_docs/version-1.0/gone.md",
                "docs/new.md"
            ]
        );
        assert_eq!(
            paths(&choose(&variants, &rules, Some("next"), None), &all),
            ["docs/intro.md", "community/support.md", "docs/new.md"]
        );
        assert_eq!(
            paths(&choose(&variants, &rules, Some("version-1.0"), None), &all),
            [
                "versioned_docs/version-1.0/intro.md",
                "versioned_community/version-1.0/support.md",
                "versioned_docs/version-1.0/gone.md"
            ]
        );
        // Without versioned docs, `docs/` is just a folder.
        assert_eq!(rules.variants(["docs/intro.md"])[0].version, None);
        // Only the folder right before the version, and never to an empty name.
        assert_eq!(rules.variant("versioned_/v1/a.md").key, "versioned_/a.md");
        assert_eq!(
            rules.variant("versioned_docs/x/v1/a.md").key,
            "versioned_docs/x/a.md"
        );
    }

    #[test]
    fn a_version_pattern_matches_whole_folder_names() {
        let rules =
            VariantRules::new(r"release-\d+", DEFAULT_LANGUAGE_PATTERN, "en", None).unwrap();
        assert_eq!(
            rules.variant("versions/release-12/a.md").version.as_deref(),
            Some("release-12")
        );
        assert_eq!(rules.variant("versions/pre-release-12/a.md").version, None);
        assert_eq!(rules.variant("versions/release-12b/a.md").version, None);
        // A pattern in `(?x)` mode that ends in a comment (it once panicked at start-up).
        let commented = r"(?x) release-\d+  # release folders";
        assert!(regex::Regex::new(commented).is_ok(), "valid as written");
        let rules = VariantRules::new(commented, DEFAULT_LANGUAGE_PATTERN, "en", None).unwrap();
        assert_eq!(
            rules.variant("versions/release-12/a.md").version.as_deref(),
            Some("release-12")
        );
        assert_eq!(rules.variant("versions/release-12b/a.md").version, None);
        // An invalid pattern is refused as written, not made valid by the line break.
        assert!(VariantRules::new(r"v\d+\", DEFAULT_LANGUAGE_PATTERN, "en", None).is_err());
        // Alternatives are all held to the whole name.
        let rules = VariantRules::new(r"a|b", DEFAULT_LANGUAGE_PATTERN, "en", None).unwrap();
        assert_eq!(rules.variant("x/ab/a.md").version, None);
        assert_eq!(rules.variant("x/b/a.md").version.as_deref(), Some("b"));
    }

    #[test]
    fn pre_releases_and_branches_rank_below_releases() {
        let rules = VariantRules::default();
        let all = [
            "docs/v1.0/a.md",
            "docs/v1.1/a.md",
            "docs/v2.0-rc1/a.md",
            "docs/main/a.md",
            "docs/2.0.0-snapshot/b.md",
            "docs/main/b.md",
        ];
        let variants: Vec<Variant> = all.iter().map(|p| rules.variant(p)).collect();
        assert_eq!(
            paths(&choose(&variants, &rules, None, None), &all),
            ["docs/v1.1/a.md", "docs/2.0.0-snapshot/b.md"]
        );
        assert_eq!(compare("v2.0-rc1", "v1.1"), Ordering::Less);
        assert_eq!(compare("1.0.0-dev", "0.9"), Ordering::Less);
        // Stages in order, whatever their numbers; then the stage's numbers.
        for (older, newer) in [
            ("v2.0-beta2", "v2.0-rc1"),
            ("1.0.0-alpha.3", "1.0.0-rc.1"),
            ("2.0-SNAPSHOT", "2.0-alpha"),
            ("v1.0-preview", "v1.0-rc"),
            ("v2.0-rc1", "v2.0-rc2"),
            ("v1.9-rc1", "v1.10-alpha"),
            ("v1.0-preview", "v1.0"),
        ] {
            assert_eq!(compare(older, newer), Ordering::Less, "{older} < {newer}");
        }
        // A stage is a whole word: with a pattern that takes such names, these are releases.
        for (older, newer) in [
            ("previous-1", "release-2"),
            ("devices-2", "v3"),
            ("2024-march", "2025-may"),
        ] {
            assert_eq!(compare(older, newer), Ordering::Less, "{older} < {newer}");
            assert_eq!(rank(Some(older)).0, 1, "{older} is a release");
        }
    }

    #[test]
    fn a_view_shows_one_variant_per_page_newest_released_first() {
        let rules = VariantRules::default();
        let all = [
            "spec/2024-11-05/a.md",
            "spec/2025-06-18/a.md",
            "spec/draft/a.md",
            "spec/draft/new.md",
            "intro.en.md",
            "intro.ja.md",
            "only.ja.md",
        ];
        let variants: Vec<Variant> = all.iter().map(|p| rules.variant(p)).collect();
        assert_eq!(
            paths(&choose(&variants, &rules, None, None), &all),
            [
                "spec/2025-06-18/a.md",
                "spec/draft/new.md",
                "intro.en.md",
                "only.ja.md"
            ]
        );
        assert_eq!(
            paths(
                &choose(&variants, &rules, Some("2024-11-05"), Some("ja")),
                &all
            ),
            ["spec/2024-11-05/a.md", "intro.ja.md", "only.ja.md"]
        );
        let (versions, languages) = known(&variants);
        assert_eq!(versions, ["draft", "2024-11-05", "2025-06-18"]);
        assert_eq!(languages, ["en", "ja"]);
        assert_eq!(compare("v1.10", "v1.9"), Ordering::Greater);
    }
}
