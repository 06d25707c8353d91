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
    let rules = VariantRules::new(r"release-\d+", DEFAULT_LANGUAGE_PATTERN, "en", None).unwrap();
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
