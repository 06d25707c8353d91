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
    let floor = window.len() * 4 / 5;
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
