//! JSON strings written as `serde_json` writes them, eight bytes at a time.
//!
//! Why: a `search_docs` answer is mostly strings (snippets, paths, titles, its readable text),
//! and `serde_json` looks each of their bytes up in a table, which was about a twentieth of a
//! call's CPU. Here eight bytes are tested at once for the three kinds that need escaping (`"`,
//! `\`, controls below U+0020); the few that do are escaped as `serde_json` escapes them (a
//! property test compares the two on any text; [`crate::bytes8`] tests the eight). No crate offers this without bringing its own
//! serializer (the SIMD ones replace `serde_json` whole), and this is the one piece we need.

/// Whether any of the eight bytes of `word` needs escaping.
fn needs_escape(word: u64) -> bool {
    use crate::bytes8::{below, equal};
    below(word, 0x20) | equal(word, b'"') | equal(word, b'\\') != 0
}

/// Appends `text` as a JSON string, quotes included, byte for byte as `serde_json` writes it.
pub fn write_str(out: &mut Vec<u8>, text: &str) {
    write_joined(out, &[text]);
}

/// Appends `parts` as one JSON string (the string of them all, one after the other), as
/// `serde_json` writes it.
pub fn write_joined(out: &mut Vec<u8>, parts: &[&str]) {
    out.push(b'"');
    for part in parts {
        escape(out, part);
    }
    out.push(b'"');
}

/// Appends `text` escaped as inside a JSON string (no quotes): text escaped in pieces is the
/// text escaped whole, as JSON escapes character by character.
pub fn escape(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len());
    // Bytes from `start` on are not written yet; those before `at` need no escape.
    let mut start = 0;
    let mut at = 0;
    while at < bytes.len() {
        if let Some(chunk) = bytes.get(at..at + 8) {
            let word = crate::bytes8::word(chunk.try_into().expect("eight bytes"));
            if !needs_escape(word) {
                at += 8;
                continue;
            }
        }
        let byte = bytes[at];
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0C => b"\\f",
            0x00..=0x1F => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(byte >> 4) as usize],
                HEX[(byte & 0xF) as usize],
            ],
            _ => {
                at += 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[start..at]);
        out.extend_from_slice(escape);
        at += 1;
        start = at;
    }
    out.extend_from_slice(&bytes[start..]);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn written(text: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, text);
        String::from_utf8(out).expect("UTF-8 in, UTF-8 out")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Any text, escapes at any place in an eight-byte chunk: the same bytes as serde_json.
        #[test]
        fn strings_are_written_as_serde_json_writes_them(text in "(?s:.{0,40})|[a\"\\\\\\x00-\\x1F\\x7Fé…]{0,40}") {
            prop_assert_eq!(written(&text), serde_json::to_string(&text).unwrap());
        }
    }

    #[test]
    fn every_byte_value_next_to_plain_text() {
        for c in (0u32..0x80)
            .chain([0xE9, 0x2026, 0x1F980])
            .filter_map(char::from_u32)
        {
            for at in 0..9 {
                let text: String = "abcdefghij"[..at]
                    .chars()
                    .chain([c])
                    .chain("klmnopq".chars())
                    .collect();
                assert_eq!(
                    written(&text),
                    serde_json::to_string(&text).unwrap(),
                    "{c:?} at {at}"
                );
            }
        }
    }
}
