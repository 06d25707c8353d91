use super::*;

const PAGE: &str = "---\ntitle: \"Operations runbook\"\ndescription: Draining, health and logs\n---\nIntro text.\n\n# Operations\n\nWhat to watch.\n\n## Draining & health\n\nDrain text.\n\n```sh\n# not a heading\ncurl /health\n```\n\n## Logs\n\nLog text.\n\n### Logs\n\nAgain.\n";

#[test]
fn front_matter_gives_title_and_description() {
    let page = Page::parse("ops/runbook.md", PAGE);
    assert_eq!(page.title, "Operations runbook");
    assert_eq!(
        page.description.as_deref(),
        Some("Draining, health and logs")
    );
    assert!(page.body.starts_with("Intro text."));
}

#[test]
fn sections_follow_headings_with_github_anchors() {
    let page = Page::parse("ops/runbook.md", PAGE);
    let anchors: Vec<&str> = page.sections.iter().map(|s| s.anchor.as_str()).collect();
    assert_eq!(
        anchors,
        ["top", "operations", "draining--health", "logs", "logs-1"]
    );
    let levels: Vec<u8> = page.sections.iter().map(|s| s.level).collect();
    assert_eq!(levels, [0, 1, 2, 2, 3]);
    let draining = page.section("draining--health").unwrap();
    let text = page.section_text(draining);
    assert!(text.starts_with("## Draining & health"));
    assert!(
        text.contains("# not a heading"),
        "code blocks stay in their section"
    );
    assert!(!text.contains("Log text"));
    // Sections tile the body.
    let covered: usize = page.sections.iter().map(|s| s.range.len()).sum();
    assert_eq!(covered, page.body.len());
    assert_eq!(page.sections[0].title, "Operations runbook");
}

#[test]
fn title_falls_back_to_the_first_heading_then_the_file_name() {
    assert_eq!(
        Page::parse("a.md", "# Hello `world`\n\ntext").title,
        "Hello world"
    );
    assert_eq!(
        Page::parse("dir/no-heading.mdx", "just text").title,
        "no-heading"
    );
    let unclosed = Page::parse("x.md", "---\ntitle: nope\n\n# Real\n");
    assert_eq!(
        unclosed.title, "Real",
        "front matter without a closing fence is text"
    );
}

#[test]
fn closest_paths_suggest_near_misses() {
    let corpus = Corpus::from_texts([
        ("deployment.md", "# D"),
        ("operations.md", "# O"),
        ("troubleshooting.md", "# T"),
    ]);
    assert_eq!(corpus.closest_paths("deploy.md", 1), ["deployment.md"]);
    assert_eq!(corpus.closest_paths("operation", 1), ["operations.md"]);
    assert!(corpus.page("operations.md").is_some());
    assert!(corpus.page("nope.md").is_none());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Markdown made of the pieces that steer the parser: headings, fences, front matter
    /// markers, HTML, links, multi-byte text and stray punctuation.
    fn markdown() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("# ".to_string()),
            Just("## Title é\n".to_string()),
            Just("###### deep\n".to_string()),
            Just("---\n".to_string()),
            Just("title: x\n".to_string()),
            Just("```\n".to_string()),
            Just("~~~\n".to_string()),
            Just("<details>\n".to_string()),
            Just("[a](b) ".to_string()),
            Just("\n\n".to_string()),
            Just("\r\n".to_string()),
            Just("# 😀 日本 ́\n".to_string()),
            "\\PC{0,12}",
        ];
        proptest::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn any_markdown_parses_into_sections_that_tile_the_body(text in markdown()) {
            let page = Page::parse("p.md", &text);
            // Blank space before the first heading (an indented ` # Title`) is no section's:
            // a heading's range starts at its `#`, where units look for the heading line.
            let mut covered = page.sections.first().map_or(0, |first| {
                let before = &page.body[..first.range.start];
                if before.trim().is_empty() { first.range.start } else { 0 }
            });
            for section in &page.sections {
                prop_assert_eq!(section.range.start, covered, "sections are contiguous");
                prop_assert!(page.body.is_char_boundary(section.range.end));
                covered = section.range.end;
                let _ = page.section_text(section);
                prop_assert!(!section.anchor.is_empty());
            }
            prop_assert_eq!(covered, page.body.len(), "sections cover the body");
            let anchors: std::collections::HashSet<&str> =
                page.sections.iter().map(|s| s.anchor.as_str()).collect();
            prop_assert_eq!(anchors.len(), page.sections.len(), "anchors are unique");
        }
    }
}
