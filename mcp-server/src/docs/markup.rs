//! Markdown reduced to what a reader reads: prose for the index and the snippets, code apart.
//!
//! Documentation sites write more than Markdown: mkdocs-material admonitions (`!!! note "Title"`,
//! `???+ tip`) and content tabs (`=== "Tab"`), Jinja (`{% include %}`, `{{ var }}`), attribute
//! lists (`{: .class }`), HTML with attributes (`<a id="x" class="field">`), MDX imports and JSX
//! tags (`<Tabs>`, `<TabItem value="x">`). None of it is prose: searching it matches words no
//! reader sees (`class`, `href`, `note`), and snippets full of it are unreadable. What is kept:
//! the text of every line with its markers removed, admonition and tab titles, the inner text
//! of tags, link texts and image alt texts. Fenced code goes to its own field.

/// A section's text, cleaned.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Clean {
    /// Readable prose, one line per source line, whitespace collapsed.
    pub prose: String,
    /// The content of fenced code blocks.
    pub code: String,
}

/// Cleans `markdown` (see the module documentation).
pub fn clean(markdown: &str) -> Clean {
    let mut out = Clean::default();
    let mut fences = Fences::default();
    let mut in_comment = false;
    let untagged = strip_tags(markdown);
    for line in untagged.lines() {
        let trimmed = line.trim();
        match fences.step(trimmed) {
            Line::Fence => continue,
            Line::Code => {
                out.code.push_str(trimmed);
                out.code.push('\n');
                continue;
            }
            Line::Text => {}
        }
        let mut text = trimmed.to_string();
        if in_comment {
            match text.find("-->") {
                Some(end) => {
                    text.drain(..end + 3);
                    in_comment = false;
                }
                None => continue,
            }
        }
        while let Some(start) = text.find("<!--") {
            match text[start..].find("-->") {
                Some(end) => {
                    text.replace_range(start..start + end + 3, " ");
                }
                None => {
                    text.truncate(start);
                    in_comment = true;
                }
            }
        }
        let prose = prose_of_line(&text);
        if !prose.is_empty() {
            out.prose.push_str(&prose);
            out.prose.push('\n');
        }
    }
    out
}

/// What a line is, as far as code fences go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Line {
    /// A fence that opens or closes a code block.
    Fence,
    /// Inside a code block.
    Code,
    /// Outside code.
    Text,
}

/// Code fences (``` or ~~~, three or more, closed by a run at least as long), line by line.
#[derive(Debug, Default)]
pub(super) struct Fences {
    open: Option<(char, usize)>,
}

impl Fences {
    /// What `trimmed` (a line without its surrounding whitespace) is, given the lines before it.
    pub(super) fn step(&mut self, trimmed: &str) -> Line {
        match self.open {
            Some((marker, count)) => {
                if is_fence_close(trimmed, marker, count) {
                    self.open = None;
                    Line::Fence
                } else {
                    Line::Code
                }
            }
            None => match fence_open(trimmed) {
                Some(open) => {
                    self.open = Some(open);
                    Line::Fence
                }
                None => Line::Text,
            },
        }
    }
}

/// The opening of a code fence: its character and length.
fn fence_open(line: &str) -> Option<(char, usize)> {
    let marker = line.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let count = line.chars().take_while(|c| *c == marker).count();
    (count >= 3).then_some((marker, count))
}

fn is_fence_close(line: &str, marker: char, count: usize) -> bool {
    let run = line.chars().take_while(|c| *c == marker).count();
    run >= count && line[run * marker.len_utf8()..].trim().is_empty()
}

/// One line of Markdown without its markers.
fn prose_of_line(line: &str) -> String {
    let mut line = line.trim();
    // MDX module lines.
    if (line.starts_with("import ") && (line.contains(" from ") || line.ends_with(';')))
        || line.starts_with("export ")
    {
        return String::new();
    }
    // Admonitions and tabs: keep the quoted title only.
    for marker in ["???+", "???", "!!!", "===+", "==="] {
        if let Some(rest) = line.strip_prefix(marker) {
            return quoted(rest).map(collapse).unwrap_or_default();
        }
    }
    // Reference-style link definitions: `[id]: https://...`.
    if line.starts_with('[') && line.contains("]:") && !line.contains("](") {
        return String::new();
    }
    line = line.trim_start_matches(['#', '>', '|']).trim_start();
    if let Some(rest) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
        line = rest;
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            // Jinja: `{% ... %}`, `{{ ... }}`; attribute lists: `{: ... }`, `{#id .class}`.
            '{' => {
                let rest = &line[i..];
                let close = if rest.starts_with("{%") {
                    rest.find("%}").map(|e| e + 2)
                } else if rest.starts_with("{{") {
                    rest.find("}}").map(|e| e + 2)
                } else if rest.starts_with("{:") || rest.starts_with("{#") || rest.starts_with("{.")
                {
                    rest.find('}').map(|e| e + 1)
                } else {
                    None
                };
                match close {
                    Some(len) => {
                        out.push(' ');
                        while chars.peek().is_some_and(|(j, _)| *j < i + len) {
                            chars.next();
                        }
                    }
                    None => out.push(c),
                }
            }
            // Links and images: `[text](url)` keeps the text; `![alt](src)` keeps the alt.
            ']' if line[i..].starts_with("](") => match line[i + 2..].find(')') {
                Some(end) => {
                    while chars.peek().is_some_and(|(j, _)| *j <= i + 2 + end) {
                        chars.next();
                    }
                }
                None => out.push(c),
            },
            '!' if line[i..].starts_with("![") => {}
            '[' | '`' | '*' | '|' => out.push(' '),
            '_' if line[i..].starts_with("__") => {
                chars.next();
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    collapse(&out)
}

/// The text between the first pair of double quotes.
fn quoted(text: &str) -> Option<&str> {
    let start = text.find('"')? + 1;
    let end = text[start..].find('"')? + start;
    Some(&text[start..end])
}

/// Whitespace runs become one space.
pub fn collapse(text: &str) -> String {
    let mut out = Collapsed::with_capacity(text.len());
    out.push(text);
    out.into_string()
}

/// [`collapse`] of text given in pieces: a snippet writes its bold markers and text into one of
/// these, where it collapsed the whole snippet again after writing it.
pub struct Collapsed {
    out: String,
    /// Whether a space is owed before the next word (never at the start, and dropped at the end).
    owed: bool,
}

impl Collapsed {
    pub fn with_capacity(capacity: usize) -> Collapsed {
        Collapsed {
            out: String::with_capacity(capacity),
            owed: false,
        }
    }

    /// Appends `text`: what has been pushed reads as [`collapse`] of all of it, one piece after
    /// the other (a property test splits texts anywhere).
    pub fn push(&mut self, text: &str) {
        let out = &mut self.out;
        let bytes = text.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            // A run of ASCII that is not whitespace, with the single spaces between its words
            // (prose lines are already collapsed: most snippets are one such run a line),
            // copied whole after a test of eight bytes at a time, or one where they do not pass.
            let start = at;
            while at < bytes.len() {
                if let Some(chunk) = bytes.get(at..at + 8)
                    && plain_chunk(chunk, at == start)
                {
                    at += 8;
                } else if WORD_BYTE[bytes[at] as usize] {
                    at += 1;
                } else if bytes[at] == b' '
                    && at > start
                    && bytes.get(at + 1).is_some_and(|&b| WORD_BYTE[b as usize])
                {
                    at += 2;
                } else {
                    break;
                }
            }
            if at > start {
                if self.owed {
                    out.push(' ');
                    self.owed = false;
                }
                out.push_str(&text[start..at]);
                continue;
            }
            // ASCII whitespace, or a character beyond ASCII, decoded: Unicode spaces split words
            // as in `str::split_whitespace`, which a property test compares.
            let c = text[at..].chars().next().expect("at a character boundary");
            if c.is_whitespace() {
                self.owed = !out.is_empty();
            } else {
                if self.owed {
                    out.push(' ');
                    self.owed = false;
                }
                out.push(c);
            }
            at += c.len_utf8();
        }
    }

    /// Appends `word` as [`Collapsed::push`] does, quicker for a word of ASCII that is not
    /// whitespace (a snippet's bold markers and matched words, most of its pieces): it is
    /// copied after one look at its bytes.
    pub fn push_word(&mut self, word: &str) {
        if word.is_empty() || !word.bytes().all(|b| WORD_BYTE[b as usize]) {
            return self.push(word);
        }
        if self.owed {
            self.out.push(' ');
            self.owed = false;
        }
        self.out.push_str(word);
    }

    /// What has been written so far (a space owed at the end is not).
    pub fn as_str(&self) -> &str {
        &self.out
    }

    pub fn into_string(self) -> String {
        self.out
    }
}

/// Whether eight bytes belong whole to a run [`Collapsed::push`] copies: printable ASCII and
/// single spaces, none first when they open the run (`opens`), none last (the byte after it
/// is not known here), no two together; tested on all eight at once ([`crate::bytes8`]).
fn plain_chunk(chunk: &[u8], opens: bool) -> bool {
    use crate::bytes8::{FIRST, LAST, below, beyond_ascii, equal, word};
    let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
        return false;
    };
    let word = word(bytes);
    let spaces = equal(word, b' ');
    let doubled = spaces & (spaces << 8);
    below(word, 0x20) | beyond_ascii(word) | doubled == 0
        && !(opens && spaces & FIRST != 0)
        && spaces & LAST == 0
}

/// The bytes [`collapse`] copies without a look: ASCII that is not whitespace.
const WORD_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        table[b] = !(b as u8).is_ascii_whitespace() && b != 0x0B;
        b += 1;
    }
    table
};

/// Removes HTML and JSX tags outside code fences, keeping their inner text. A tag is `<` then
/// a letter, `/` or `!`, up to the next `>` that is not inside quotes or braces; a `<` that opens
/// nothing of the kind (`a < b`, `<https://...>` autolinks keep their URL) is text.
fn strip_tags(markdown: &str) -> String {
    // One pass over the whole text, so a tag may span lines (JSX props); fences are skipped.
    let text = markdown;
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut at_line_start = true;
    let mut fences = Fences::default();
    while i < bytes.len() {
        if at_line_start {
            let end = text[i..].find('\n').map_or(text.len(), |e| i + e + 1);
            if fences.step(text[i..end].trim()) != Line::Text {
                out.push_str(&text[i..end]);
                i = end;
                continue;
            }
        }
        let c = bytes[i];
        if c == b'<'
            && is_tag_start(&bytes[i + 1..])
            && let Some(len) = tag_len(&text[i..])
        {
            let tag = &text[i..i + len];
            out.push(' ');
            if tag.contains('\n') {
                out.push('\n');
            }
            at_line_start = tag.ends_with('\n');
            i += len;
            continue;
        }
        let ch = text[i..].chars().next().expect("in bounds");
        out.push(ch);
        at_line_start = ch == '\n';
        i += ch.len_utf8();
    }
    out
}

fn is_tag_start(after: &[u8]) -> bool {
    match after.first() {
        Some(b'/') | Some(b'!') => after
            .get(1)
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'-'),
        Some(c) => c.is_ascii_alphabetic(),
        None => false,
    }
}

/// Bytes of the tag at the start of `text`, or `None` when it is not one (no closing `>`
/// within 4,000 bytes, or an autolink such as `<https://example.com>`).
fn tag_len(text: &str) -> Option<usize> {
    let mut cut = text.len().min(16);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = &text[1..cut];
    if head.contains("://") || head.starts_with("!--") {
        return None;
    }
    let mut quote: Option<u8> = None;
    let mut braces = 0usize;
    for (i, &b) in text.as_bytes().iter().enumerate().skip(1).take(4_000) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"') | (None, b'\'') => quote = Some(b),
            (None, b'{') => braces += 1,
            (None, b'}') => braces = braces.saturating_sub(1),
            (None, b'>') if braces == 0 => return Some(i + 1),
            (None, b'<') if braces == 0 => return None,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests;
