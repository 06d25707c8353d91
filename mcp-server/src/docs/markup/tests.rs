use super::*;
use proptest::prelude::*;

proptest! {
    /// The byte scan joins the same words as `split_whitespace` (ASCII and Unicode spaces,
    /// the vertical tab that `u8::is_ascii_whitespace` leaves out, multi-byte letters).
    #[test]
    fn collapse_joins_the_words_split_whitespace_finds(
        text in "[a b\t\n\r\x0B\x0C\x1C\x1F\x00é日🦀\u{85}\u{A0}\u{2003}\u{3000}\u{301}.]{0,40}|( ?[a-z.]{1,9}[ \n]{1,2}){0,8}",
    ) {
        let expected: Vec<&str> = text.split_whitespace().collect();
        prop_assert_eq!(collapse(&text), expected.join(" "));
    }

    /// Pushed in pieces, cut anywhere (inside a whitespace run, between a word and its
    /// space), a text collapses as it does whole, pushed as words too.
    #[test]
    fn collapsed_in_pieces_is_collapsed_whole(
        text in "[a b*\t\n\x0B\x01\x7F\u{85}\u{A0}é…]{0,40}|([a-z]{1,9}[ ]{1,2}){0,8}",
        cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..6),
        as_words in any::<bool>(),
    ) {
        let mut cuts: Vec<usize> = cuts
            .into_iter()
            .map(|cut| cut.index(text.len() + 1))
            .filter(|&cut| text.is_char_boundary(cut))
            .collect();
        cuts.sort_unstable();
        let mut pieces = Collapsed::with_capacity(0);
        let mut from = 0;
        for cut in cuts.into_iter().chain([text.len()]) {
            if as_words {
                pieces.push_word(&text[from..cut]);
            } else {
                pieces.push(&text[from..cut]);
            }
            from = cut;
        }
        prop_assert_eq!(pieces.into_string(), collapse(&text));
    }
}

#[test]
fn mkdocs_markup_is_not_prose() {
    let text = "???+ note \"Sample manifests\"\n\n    === \"Basic\"\n\n        ```yaml\n        name: 'frontend'\n        ```\n\n!!! info\n    Keep it short.\n";
    let clean = clean(text);
    assert_eq!(clean.prose, "Sample manifests\nBasic\nKeep it short.\n");
    assert_eq!(clean.code, "name: 'frontend'\n");
}

#[test]
fn html_and_jsx_keep_their_inner_text_only() {
    let text = "<span class=\"parent-field\">http.</span><a id=\"http-deregistration-delay\" href=\"#x\" class=\"field\">`deregistration_delay`</a> <span class=\"type\">Duration</span>\nThe time to wait.\n<Tabs groupId=\"os\" values={[{label: 'A', value: 'a'}]}>\n<TabItem\n  value=\"a\">\nText in a tab.\n</TabItem>\n";
    let clean = clean(text);
    assert_eq!(
        clean.prose,
        "http. deregistration_delay Duration\nThe time to wait.\nText in a tab.\n"
    );
}

#[test]
fn links_jinja_attributes_comments_and_imports_go() {
    let text = "import Tabs from '@theme/Tabs';\n## Drain {#drain}\nSee [the guide](../guide.md#x) and ![a diagram](d.png).\n{% include 'x.md' %}\n<!-- hidden\nstill hidden -->\nShown {: .class } {{ version }} a < b.\n[ref]: https://example.com\n";
    let clean = clean(text);
    assert_eq!(
        clean.prose,
        "Drain\nSee the guide and a diagram.\nShown a < b.\n"
    );
}

#[test]
fn code_fences_keep_tags_and_markers_as_code() {
    let text = "~~~html\n<a id=\"x\">\n=== \"no\"\n~~~\nafter\n";
    let clean = clean(text);
    assert_eq!(clean.code, "<a id=\"x\">\n=== \"no\"\n");
    assert_eq!(clean.prose, "after\n");
}
