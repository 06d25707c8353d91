//! Snippets: the passage of a hit's prose with the most query words, in bold.

use std::collections::HashSet;

use super::SearchIndex;

/// Characters of context in a snippet.
const SNIPPET_CHARS: usize = 240;

impl SearchIndex {
    /// About [`SNIPPET_CHARS`] of a unit's prose around the most query words, with them in
    /// bold; its opening when no word matched the prose (a title match).
    pub(super) fn snippet(
        &self,
        terms: &HashSet<String>,
        text: &crate::docs::markup::Clean,
    ) -> String {
        let source = if text.prose.trim().is_empty() {
            &text.code
        } else {
            &text.prose
        };
        // Stemming every word of the unit costs more than the search: only words that start
        // like a query term (their first three letters, lower-cased) are stemmed and compared.
        let prefixes: Vec<String> = terms.iter().map(|t| t.chars().take(3).collect()).collect();
        let mut analyzer = self.analyzer.clone();
        let mut matches: Vec<(usize, usize, usize)> = Vec::new();
        let mut distinct: Vec<&String> = Vec::new();
        let mut lowered = String::new();
        for (start, word) in words(source) {
            lowered.clear();
            lowered.extend(word.chars().take(3).flat_map(char::to_lowercase));
            if !prefixes.iter().any(|p| {
                lowered.starts_with(p.as_str())
                    || p.starts_with(lowered.as_str()) && lowered.len() == word.len()
            }) {
                continue;
            }
            let mut stream = analyzer.token_stream(word);
            let Some(term) = (stream.advance())
                .then(|| terms.get(&stream.token().text))
                .flatten()
            else {
                continue;
            };
            let id = match distinct.iter().position(|t| *t == term) {
                Some(id) => id,
                None => {
                    distinct.push(term);
                    distinct.len() - 1
                }
            };
            matches.push((start, start + word.len(), id));
        }
        if matches.is_empty() {
            return opening(source);
        }
        // The window with the most distinct words, earliest first.
        let mut best = (0usize, 0usize);
        for (i, &(start, _, _)) in matches.iter().enumerate() {
            let mut seen = 0u64;
            for &(s, _, id) in &matches[i..] {
                if s >= start + SNIPPET_CHARS {
                    break;
                }
                seen |= 1 << (id % 64);
            }
            let count = seen.count_ones() as usize;
            if count > best.1 {
                best = (i, count);
            }
        }
        let first = matches[best.0].0;
        // Start at the line or sentence the first match is in, when it is close.
        let line_start = source[..first].rfind('\n').map_or(0, |n| n + 1);
        let start = if first - line_start <= SNIPPET_CHARS / 4 {
            line_start
        } else {
            floor_boundary(source, first - SNIPPET_CHARS / 8)
        };
        let end = floor_boundary(source, (start + SNIPPET_CHARS).min(source.len()));
        let mut out = String::with_capacity(end - start + 32);
        if start > 0 && start != line_start {
            out.push('…');
        }
        let mut from = start;
        for &(s, e, _) in matches.iter().filter(|(s, e, _)| *s >= start && *e <= end) {
            out.push_str(&source[from..s]);
            out.push_str("**");
            out.push_str(&source[s..e]);
            out.push_str("**");
            from = e;
        }
        out.push_str(&source[from..end]);
        if end < source.len() {
            out.push('…');
        }
        crate::docs::markup::collapse(&out)
    }
}

/// The words of `text` as the tokenizer sees them (runs of letters and digits), with their
/// byte offsets.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = None;
    let mut chars = text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')));
    std::iter::from_fn(move || {
        for (i, c) in chars.by_ref() {
            match (start, c.is_alphanumeric()) {
                (None, true) => start = Some(i),
                (Some(s), false) => {
                    start = None;
                    return Some((s, &text[s..i]));
                }
                _ => {}
            }
        }
        None
    })
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The first words of a unit's prose.
fn opening(text: &str) -> String {
    let collapsed = crate::docs::markup::collapse(text);
    match collapsed.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &collapsed[..cut]),
        None => collapsed,
    }
}
