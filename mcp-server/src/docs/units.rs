//! Units of retrieval: what one search hit is.
//!
//! A section (heading to heading) is often the wrong size: reference pages put dozens of fields
//! under one heading, each with an HTML anchor of its own (`<a id="http-deregistration-delay">`),
//! and long guides run for pages without a sub-heading. So a section is split further: at every
//! line that opens with an HTML anchor (the unit takes the anchor's id, which the rendered site
//! links to as well), then, where a piece is still long, into windows of whole paragraphs
//! (`{anchor}-part-2`, ...). Every unit keeps its heading path, and `read_doc` reads any unit by
//! its anchor.

use std::collections::HashSet;
use std::ops::Range;

use super::corpus::Section;
use super::markup::{Clean, Fences, Line, clean, collapse};

/// A piece longer than this (bytes of Markdown) is split into paragraph windows.
const MAX_UNIT_BYTES: usize = 2_400;
/// A window closes at the first paragraph end after this many bytes.
const WINDOW_BYTES: usize = 1_200;

/// One unit of retrieval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// The anchor `read_doc` reads it by: the section's, an HTML id, or `{anchor}-part-N`.
    pub anchor: String,
    /// What it is about: the heading, or the field an HTML anchor names (`http.stickiness`).
    pub title: String,
    /// The headings above it, outermost first, joined with ` › ` (empty at the top).
    pub context: String,
    /// Index of the section it is part of.
    pub section: usize,
    /// Byte range in the page body.
    pub range: Range<usize>,
    /// Its text without markup, and its code.
    pub text: Clean,
}

/// Splits every section of `body` into units.
pub fn split(body: &str, sections: &[Section]) -> Vec<Unit> {
    let mut units = Vec::with_capacity(sections.len());
    let mut taken: HashSet<String> = sections.iter().map(|s| s.anchor.clone()).collect();
    let mut path: Vec<(u8, &str)> = Vec::new();
    for (index, section) in sections.iter().enumerate() {
        while path
            .last()
            .is_some_and(|(level, _)| *level >= section.level)
        {
            path.pop();
        }
        let context = path
            .iter()
            .map(|(_, title)| *title)
            .collect::<Vec<_>>()
            .join(" › ");
        if section.level > 0 {
            path.push((section.level, section.title.as_str()));
        }
        let pieces = anchored_pieces(body, section);
        for (range, anchor, title) in pieces {
            let (anchor, title, piece_context) = match anchor {
                None => (
                    section.anchor.clone(),
                    section.title.clone(),
                    context.clone(),
                ),
                Some(id) => {
                    let id = if !taken.insert(id.clone()) {
                        unique(&id, &mut taken)
                    } else {
                        id
                    };
                    let within = if context.is_empty() {
                        section.title.clone()
                    } else {
                        format!("{context} › {}", section.title)
                    };
                    (id, title, within)
                }
            };
            for (window, range) in windows(body, range).into_iter().enumerate() {
                let anchor = if window == 0 {
                    anchor.clone()
                } else {
                    unique(&format!("{anchor}-part-{}", window + 1), &mut taken)
                };
                units.push(Unit {
                    anchor,
                    title: title.clone(),
                    context: piece_context.clone(),
                    section: index,
                    text: clean(&body[range.clone()]),
                    range,
                });
            }
        }
    }
    units
}

fn unique(base: &str, taken: &mut HashSet<String>) -> String {
    if taken.insert(base.to_string()) {
        return base.to_string();
    }
    let mut n = 1;
    loop {
        let candidate = format!("{base}-{n}");
        if taken.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

/// Lines of a section with their byte ranges in `body`, and whether each is inside a code fence.
fn lines(body: &str, range: Range<usize>) -> Vec<(Range<usize>, bool)> {
    let mut out = Vec::new();
    let mut fences = Fences::default();
    let mut start = range.start;
    for line in body[range.clone()].split_inclusive('\n') {
        let end = start + line.len();
        let in_code = fences.step(line.trim()) != Line::Text;
        out.push((start..end, in_code));
        start = end;
    }
    out
}

/// The section cut at every line that opens with an HTML anchor: `(range, id, field title)`;
/// the first piece (from the heading) has no id of its own.
fn anchored_pieces(body: &str, section: &Section) -> Vec<(Range<usize>, Option<String>, String)> {
    let mut pieces: Vec<(Range<usize>, Option<String>, String)> =
        vec![(section.range.clone(), None, section.title.clone())];
    let mut first = true;
    for (range, in_code) in lines(body, section.range.clone()) {
        // A section's first line is its heading, except in the text before the first heading.
        if in_code || (range.start == section.range.start && section.level > 0) {
            continue;
        }
        let Some((id, title)) = line_anchor(&body[range.clone()]) else {
            continue;
        };
        if first && range.start == section.range.start {
            // The anchor opens the section: the first piece is the anchored one.
            pieces[0] = (section.range.clone(), Some(id), title);
        } else {
            let last = pieces.last_mut().expect("one piece at least");
            last.0.end = range.start;
            pieces.push((range.start..section.range.end, Some(id), title));
        }
        first = false;
    }
    pieces
}

/// The id and the field title of a line that opens with an HTML anchor: `<a id="x">`, or
/// `<span ...>parent.</span><a id="x" ...>`name`</a>`.
fn line_anchor(line: &str) -> Option<(String, String)> {
    let trimmed = line.trim_start();
    if !trimmed.starts_with('<') {
        return None;
    }
    let tag_start = trimmed.find("<a ")?;
    // Only markup may come before the anchor: `<span>parent.</span>`, not prose.
    if tag_start > 200 {
        return None;
    }
    let tag_end = trimmed[tag_start..].find('>')? + tag_start;
    let tag = &trimmed[tag_start..tag_end];
    let id = attribute(tag, "id").or_else(|| attribute(tag, "name"))?;
    if id.is_empty() || id.len() > 200 {
        return None;
    }
    let close = trimmed[tag_end..]
        .find("</a>")
        .map_or(trimmed.len(), |c| tag_end + c + 4);
    let title: String = clean(&trimmed[..close])
        .prose
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let title = if title.is_empty() { id.clone() } else { title };
    Some((id, title))
}

/// The value of `name="..."` (or single quotes) in a tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let mut from = 0;
    while let Some(found) = tag[from..].find(name) {
        let at = from + found;
        from = at + name.len();
        let before = tag[..at].chars().next_back();
        if !before.is_some_and(char::is_whitespace) {
            continue;
        }
        let rest = tag[from..].trim_start().strip_prefix('=')?.trim_start();
        let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let value = &rest[1..];
        let end = value.find(quote)?;
        return Some(value[..end].to_string());
    }
    None
}

/// `range` as paragraph windows when it is longer than [`MAX_UNIT_BYTES`]; a window never
/// cuts a code fence.
fn windows(body: &str, range: Range<usize>) -> Vec<Range<usize>> {
    if range.len() <= MAX_UNIT_BYTES {
        return vec![range];
    }
    let mut out = Vec::new();
    let mut start = range.start;
    for (line, in_code) in lines(body, range.clone()) {
        let blank = !in_code && body[line.clone()].trim().is_empty();
        if blank && line.end - start >= WINDOW_BYTES && range.end - line.end >= WINDOW_BYTES / 2 {
            out.push(start..line.end);
            start = line.end;
        }
    }
    out.push(start..range.end);
    out
}

/// The heading path and title of a unit as one line, for display.
pub fn heading_line(page_title: &str, unit: &Unit) -> String {
    let mut parts = vec![page_title];
    let context = unit
        .context
        .strip_prefix(page_title)
        .map_or(unit.context.as_str(), |rest| rest.trim_start_matches(" › "));
    if !context.is_empty() {
        parts.push(context);
    }
    if unit.title != page_title {
        parts.push(&unit.title);
    }
    collapse(&parts.join(" › "))
}

#[cfg(test)]
mod tests {
    use super::super::corpus::Page;
    use super::*;

    #[test]
    fn fields_with_html_anchors_are_units_of_their_own() {
        let text = "# Manifest\n\n## http\n\nThe http section.\n\n<span class=\"parent-field\">http.</span><a id=\"http-deregistration-delay\" href=\"#http-deregistration-delay\" class=\"field\">`deregistration_delay`</a> <span class=\"type\">Duration</span>\nHow long to wait.\n\n```yaml\n<a id=\"not-this\">\n```\n<a id=\"count\" href=\"#count\">`count`</a>\nTasks.\n";
        let page = Page::parse("m.md", text);
        let anchors: Vec<&str> = page.units.iter().map(|u| u.anchor.as_str()).collect();
        assert_eq!(
            anchors,
            ["manifest", "http", "http-deregistration-delay", "count"]
        );
        let field = &page.units[2];
        assert_eq!(field.title, "http.deregistration_delay");
        assert_eq!(field.context, "Manifest › http");
        assert!(
            field
                .text
                .prose
                .starts_with("http. deregistration_delay Duration\nHow long to wait.")
        );
        assert_eq!(field.text.code, "<a id=\"not-this\">\n");
        assert!(page.body[field.range.clone()].ends_with("```\n"));
    }

    #[test]
    fn long_sections_become_paragraph_windows_that_cover_them() {
        let paragraph = "word ".repeat(100);
        let text = format!("# Long\n\n{}", format!("{paragraph}\n\n").repeat(12));
        let page = Page::parse("l.md", &text);
        assert!(page.units.len() > 1);
        assert_eq!(page.units[1].anchor, "long-part-2");
        let mut end = page.units[0].range.start;
        for unit in &page.units {
            assert_eq!(unit.range.start, end, "windows are contiguous");
            assert!(unit.range.len() <= MAX_UNIT_BYTES + WINDOW_BYTES);
            end = unit.range.end;
        }
        assert_eq!(end, page.body.len());
    }
}
