//! `search_docs`'s structured output written by hand in parts, byte for byte as `serde_json`
//! writes it from the derived `Serialize` (which rmcp's route and the `outputSchema` keep using;
//! a property test compares the two on any output).
//!
//! Why: the fast path writes a hit from these parts, most of whose bytes are strings that
//! `serde_json` looks at a byte at a time (see [`crate::json`]); the parts that depend on a
//! hit's unit alone are written once per unit (`rendered.rs`). [`Structured::write_json`] of a
//! whole output puts the same parts together, as the property test's writer.

use super::{Joined, SearchHit, SearchOutput, Structured, VariantEntry};
use crate::json::{write_joined, write_str};

impl Structured for SearchOutput<'_> {
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        out.extend_from_slice(br#"{"query":"#);
        write_str(out, &self.query);
        out.extend_from_slice(br#","hits":["#);
        for (i, hit) in self.hits.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            hit.write_to(out)?;
        }
        out.extend_from_slice(b"]}");
        Ok(())
    }
}

impl SearchHit<'_> {
    fn write_to(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        self.write_head(out);
        write_str(out, &self.snippet);
        write_score(out, self.score)?;
        self.write_uri(out);
        self.write_variants(out);
        write_also_in(out, &self.also_in);
        out.push(b'}');
        Ok(())
    }

    /// What a hit writes before its snippet's string: its unit's alone (a search's answer
    /// keeps it written, see `rendered.rs`).
    pub(super) fn write_head(&self, out: &mut Vec<u8>) {
        for (key, value) in [
            (&br#"{"path":"#[..], self.path),
            (br#","anchor":"#, self.anchor),
            (br#","pageTitle":"#, self.page_title),
            (br#","sectionTitle":"#, self.section_title),
            (br#","context":"#, self.context),
        ] {
            out.extend_from_slice(key);
            write_str(out, value);
        }
        out.extend_from_slice(br#","snippet":"#);
    }

    /// A hit's `uri` member, after its score: its unit's alone, as [`SearchHit::write_head`].
    pub(super) fn write_uri(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(br#","uri":"#);
        write_joined(out, &self.uri.0);
    }

    /// A hit's `variants` member, when its page has other variants: its page's alone.
    pub(super) fn write_variants(&self, out: &mut Vec<u8>) {
        if !self.variants.is_empty() {
            out.extend_from_slice(br#","variants":["#);
            for (i, variant) in self.variants.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                variant.write_to(out);
            }
            out.push(b']');
        }
    }
}

/// A hit's `score` member, after its snippet.
pub(super) fn write_score(out: &mut Vec<u8>, score: f64) -> Result<(), serde_json::Error> {
    out.extend_from_slice(br#","score":"#);
    // One number: serde_json's own writing of it (`null` for what is not finite).
    serde_json::to_writer(&mut *out, &score)
}

/// A hit's `alsoIn` member, when it has one.
pub(super) fn write_also_in(out: &mut Vec<u8>, also_in: &[Joined<'_>]) {
    if !also_in.is_empty() {
        out.extend_from_slice(br#","alsoIn":["#);
        for (i, also) in also_in.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_joined(out, &also.0);
        }
        out.push(b']');
    }
}

impl VariantEntry<'_> {
    fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(br#"{"path":"#);
        write_str(out, &self.path);
        if let Some(version) = &self.version {
            out.extend_from_slice(br#","version":"#);
            write_str(out, version);
        }
        if let Some(language) = &self.language {
            out.extend_from_slice(br#","language":"#);
            write_str(out, language);
        }
        out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use proptest::prelude::*;

    use super::*;

    /// Text with what JSON escapes, at any place.
    const TEXT: &str = "[a/#?é…\"\\\\\\x00-\\x1F\\x7F]{0,12}";

    /// A hit's strings, owned, for a hit to borrow.
    #[derive(Debug, Clone)]
    struct Owned {
        strings: [String; 6],
        score: f64,
        variants: Vec<(String, Option<String>, Option<String>)>,
        also: Vec<(String, String)>,
    }

    fn owned() -> impl Strategy<Value = Owned> {
        (
            proptest::array::uniform6(TEXT),
            prop_oneof![
                any::<f64>(),
                any::<f32>().prop_map(f64::from),
                Just(f64::NAN),
                Just(f64::INFINITY),
                Just(-0.0)
            ],
            proptest::collection::vec(
                (TEXT, proptest::option::of(TEXT), proptest::option::of(TEXT)),
                0..3,
            ),
            proptest::collection::vec((TEXT, TEXT), 0..3),
        )
            .prop_map(|(strings, score, variants, also)| Owned {
                strings,
                score,
                variants,
                also,
            })
    }

    fn hit(owned: &Owned) -> SearchHit<'_> {
        let [path, anchor, page_title, section_title, context, snippet] = &owned.strings;
        SearchHit {
            path,
            anchor,
            page_title,
            section_title,
            context,
            snippet: snippet.clone(),
            score: owned.score,
            uri: Joined(["docs://", path, "?section=", anchor]),
            variants: owned
                .variants
                .iter()
                .map(|(path, version, language)| VariantEntry {
                    path: Cow::Borrowed(path),
                    version: version.as_deref().map(Cow::Borrowed),
                    language: language.as_deref().map(Cow::Borrowed),
                })
                .collect(),
            also_in: owned
                .also
                .iter()
                .map(|(path, anchor)| Joined([path, "#", anchor, ""]))
                .collect(),
        }
    }

    proptest! {
        #[test]
        fn a_search_is_written_as_serde_json_writes_it(
            query in TEXT,
            hits in proptest::collection::vec(owned(), 0..4),
        ) {
            let output = SearchOutput {
                query,
                hits: hits.iter().map(hit).collect(),
            };
            let mut written = Vec::new();
            output.write_json(&mut written).unwrap();
            prop_assert_eq!(
                String::from_utf8(written).unwrap(),
                serde_json::to_string(&output).unwrap()
            );
        }
    }
}
