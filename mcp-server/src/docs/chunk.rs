//! The chunking of `read_doc`: a long page or section comes in windows of characters, cut at a
//! paragraph or line break where one is near the window's end, so a model reads it in pieces
//! with `offset` / `nextOffset`.

/// A window of `text`, in characters.
pub(super) struct Chunk<'a> {
    pub(super) text: &'a str,
    pub(super) next_offset: Option<usize>,
    pub(super) total_chars: usize,
}

/// Up to `max` characters from character `offset`, ending at a paragraph or line break when one
/// falls in the window's last fifth; `None` when `offset` is past the end.
pub(super) fn chunk(text: &str, offset: usize, max: usize) -> Option<Chunk<'_>> {
    let total_chars = text.chars().count();
    if offset > total_chars || (offset == total_chars && total_chars > 0) {
        return None;
    }
    let byte_at = |chars: usize| {
        text.char_indices()
            .nth(chars)
            .map_or(text.len(), |(byte, _)| byte)
    };
    let max = max.max(1);
    let start = byte_at(offset);
    if total_chars - offset <= max {
        return Some(Chunk {
            text: &text[start..],
            next_offset: None,
            total_chars,
        });
    }
    let hard_end = byte_at(offset + max);
    let window = &text[start..hard_end];
    // A byte index, so it must land on a character boundary: the window may be all multi-byte.
    let floor = window.floor_char_boundary(window.len() * 4 / 5);
    let cut = window[floor..]
        .rfind("\n\n")
        .map(|i| floor + i + 2)
        .or_else(|| window[floor..].rfind('\n').map(|i| floor + i + 1))
        .unwrap_or(window.len());
    let piece = &text[start..start + cut];
    Some(Chunk {
        text: piece,
        next_offset: Some(offset + piece.chars().count()),
        total_chars,
    })
}

#[cfg(test)]
mod tests {
    use super::chunk;
    use proptest::prelude::*;

    /// Reads `text` chunk by chunk from `offset` as a client following `nextOffset` would.
    fn read_all(text: &str, mut offset: usize, max: usize) -> Vec<String> {
        let mut pieces = Vec::new();
        while let Some(piece) = chunk(text, offset, max) {
            assert!(piece.text.chars().count() <= max.max(1));
            pieces.push(piece.text.to_string());
            match piece.next_offset {
                Some(next) => {
                    assert!(next > offset, "no progress at {offset}");
                    offset = next;
                }
                None => break,
            }
        }
        pieces
    }

    proptest! {
        #[test]
        fn chunks_tile_any_text_from_any_offset(
            text in "(\\PC|\u{301}|\u{1F600}|é|\n|\n\n|日本){0,400}",
            offset in 0usize..450,
            max in 1usize..120,
        ) {
            let total = text.chars().count();
            let pieces = read_all(&text, offset, max);
            if offset > total || (offset == total && total > 0) {
                prop_assert!(pieces.is_empty());
            } else {
                let rest: String = text.chars().skip(offset).collect();
                prop_assert_eq!(pieces.concat(), rest);
            }
        }
    }

    #[test]
    fn a_window_of_multi_byte_characters_is_cut_on_a_character() {
        // 100 three-byte characters and a line break in the last fifth: the old byte floor fell
        // inside a character and panicked.
        let text = format!("{}\n{}", "日".repeat(95), "本".repeat(200));
        let pieces = read_all(&text, 0, 100);
        assert_eq!(pieces.concat(), text);
        assert!(pieces[0].ends_with('\n'), "{:?}", pieces[0]);
        let emoji = "😀".repeat(500);
        assert_eq!(read_all(&emoji, 7, 100).concat(), "😀".repeat(493));
    }

    #[test]
    fn chunks_tile_the_text_and_prefer_paragraph_breaks() {
        let text = format!(
            "{}\n\n{}\n\n{}",
            "a".repeat(90),
            "b".repeat(90),
            "c".repeat(90)
        );
        let mut offset = 0;
        let mut pieces = Vec::new();
        while let Some(piece) = chunk(&text, offset, 100) {
            pieces.push(piece.text.to_string());
            match piece.next_offset {
                Some(next) => offset = next,
                None => break,
            }
        }
        assert_eq!(pieces.concat(), text);
        assert!(pieces[0].ends_with("\n\n"), "{:?}", pieces[0]);
        assert!(pieces.iter().all(|p| p.chars().count() <= 100));
    }

    #[test]
    fn offsets_count_characters_not_bytes() {
        let text = "héllo wörld";
        let first = chunk(text, 0, 100).unwrap();
        assert_eq!(first.total_chars, 11);
        assert_eq!(chunk(text, 6, 100).unwrap().text, "wörld");
        assert!(chunk(text, 11, 100).is_none());
        assert!(chunk(text, 99, 100).is_none());
        assert_eq!(chunk("", 0, 100).unwrap().text, "");
    }
}
