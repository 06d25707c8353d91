//! The documentation corpus: Markdown pages split into sections.
//!
//! A page is a `.md` or `.mdx` file (MDX is read as Markdown). Optional YAML-style front matter
//! gives `title` and `description`. Every heading starts a section that runs to the next heading;
//! its anchor is the GitHub-style slug of the heading text (`## Draining & health` becomes
//! `draining--health`, repeats get `-1`, `-2`), so links into GitHub-rendered docs and into this
//! server agree; a heading that ends with an attribute list (`## Drain {#drain}`) takes its id.
//! Text before the first heading is a section with the anchor `top`. Sections are split further
//! into units of retrieval (see [`super::units`]), and `{% include %}` fragments and MDX imports
//! are resolved into the pages that use them first (see [`super::includes`]).

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};

use super::folder::read_folder;
use super::includes;
use super::source::Limits;
use super::units::{self, Unit};

/// One Markdown file.
#[derive(Debug, Clone)]
pub struct Page {
    /// Path relative to the corpus root, with `/` separators (`operations/draining.md`).
    pub path: String,
    /// Front matter `title`, else the first heading, else the file name.
    pub title: String,
    /// Front matter `description`, if any.
    pub description: Option<String>,
    /// The Markdown after the front matter.
    pub body: String,
    /// The page's sections, in order; together they cover `body`.
    pub sections: Vec<Section>,
    /// The units of retrieval, in order; together they cover `body` too.
    pub units: Vec<Unit>,
    /// Whether another page includes this one (then a hit on its text is this page, with the
    /// pages that include it listed as `alsoIn`).
    pub fragment: bool,
}

/// A heading and the text under it, up to the next heading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Stable anchor (GitHub slug).
    pub anchor: String,
    /// Heading text (the page title for the `top` section).
    pub title: String,
    /// Heading level, 1-6 (0 for `top`).
    pub level: u8,
    /// Byte range in the page body, heading line included.
    pub range: Range<usize>,
}

impl Page {
    /// Builds a page from a file's text.
    pub fn parse(path: &str, text: &str) -> Page {
        let (front, body) = split_front_matter(text);
        let body = body.trim_start_matches(['\n', '\r']).to_string();
        let mut sections = split_sections(&body);
        // `lb-web-service.en.md` is "lb-web-service": extension and language suffix go.
        let file_name = path.rsplit('/').next().unwrap_or(path);
        let file_stem = file_name
            .split('.')
            .find(|part| !part.is_empty())
            .unwrap_or(file_name)
            .to_string();
        let title = front
            .title
            .clone()
            .or_else(|| {
                sections
                    .iter()
                    .find(|s| s.level > 0)
                    .map(|s| s.title.clone())
            })
            .unwrap_or(file_stem);
        for section in sections.iter_mut().filter(|s| s.level == 0) {
            section.title = title.clone();
        }
        let units = units::split(&body, &sections);
        Page {
            path: path.to_string(),
            title,
            description: front.description,
            body,
            sections,
            units,
            fragment: false,
        }
    }

    /// The section with this anchor.
    pub fn section(&self, anchor: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.anchor == anchor)
    }

    /// The text under `anchor`: a section's, else a unit's (a field, a paragraph window).
    pub fn anchored_text(&self, anchor: &str) -> Option<&str> {
        if let Some(section) = self.section(anchor) {
            return Some(self.section_text(section));
        }
        let unit = self.units.iter().find(|u| u.anchor == anchor)?;
        Some(&self.body[unit.range.clone()])
    }

    /// A section's Markdown.
    pub fn section_text(&self, section: &Section) -> &str {
        &self.body[section.range.clone()]
    }
}

#[derive(Debug, Default)]
struct FrontMatter {
    title: Option<String>,
    description: Option<String>,
}

/// Splits `---\nkey: value\n---\n` front matter off the text. Only flat `key: value` lines are
/// read (quotes stripped); anything else in it is ignored.
fn split_front_matter(text: &str) -> (FrontMatter, &str) {
    let mut front = FrontMatter::default();
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return (front, text);
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        offset += line.len();
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed == "..." {
            for entry in rest[..offset - line.len()].lines() {
                let Some((key, value)) = entry.split_once(':') else {
                    continue;
                };
                let value = value
                    .trim()
                    .trim_matches('"')
                    .trim_matches('\'')
                    .to_string();
                if value.is_empty() {
                    continue;
                }
                match key.trim() {
                    "title" => front.title = Some(value),
                    "description" => front.description = Some(value),
                    _ => {}
                }
            }
            return (front, &rest[offset..]);
        }
    }
    // No closing fence: not front matter after all.
    (FrontMatter::default(), text)
}

/// Finds headings with a real Markdown parser (so `#` lines in code blocks are not headings).
fn split_sections(body: &str) -> Vec<Section> {
    let mut headings: Vec<(usize, u8, String)> = Vec::new();
    let mut current: Option<(usize, u8, String)> = None;
    for (event, range) in Parser::new(body).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                current = Some((range.start, heading_level(level), String::new()));
            }
            Event::Text(text) | Event::Code(text) => {
                if let Some((_, _, title)) = current.as_mut() {
                    title.push_str(&text);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((start, level, title)) = current.take() {
                    headings.push((start, level, title.trim().to_string()));
                }
            }
            _ => {}
        }
    }
    let mut sections = Vec::new();
    let first = headings.first().map_or(body.len(), |h| h.0);
    if !body[..first].trim().is_empty() {
        sections.push(Section {
            anchor: "top".into(),
            title: String::new(),
            level: 0,
            range: 0..first,
        });
    }
    let mut slugs = Slugs::default();
    for (i, (start, level, title)) in headings.iter().enumerate() {
        let end = headings.get(i + 1).map_or(body.len(), |h| h.0);
        let (title, id) = heading_id(title);
        let anchor = match id {
            Some(id) => slugs.take(id),
            None => slugs.unique(title),
        };
        sections.push(Section {
            anchor,
            title: title.to_string(),
            level: *level,
            range: *start..end,
        });
    }
    sections
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// A heading's text without a trailing attribute list, and the list's `#id` when it has one:
/// `Drain {#drain .x}` is `("Drain", Some("drain"))`.
fn heading_id(title: &str) -> (&str, Option<&str>) {
    let Some(open) = title.rfind('{').filter(|_| title.ends_with('}')) else {
        return (title, None);
    };
    let attributes = &title[open + 1..title.len() - 1];
    let id = attributes
        .split_whitespace()
        .find_map(|a| a.strip_prefix('#'))
        .filter(|id| !id.is_empty());
    (title[..open].trim_end(), id)
}

/// GitHub's anchor rule: lower-case; keep letters, digits, `-`, `_` and spaces; spaces become
/// `-`; a repeated slug gets `-1`, `-2`, ...
#[derive(Default)]
struct Slugs {
    seen: std::collections::HashMap<String, usize>,
}

impl Slugs {
    /// An id the author gave: kept as written (a repeat still gets a suffix).
    fn take(&mut self, id: &str) -> String {
        let count = self.seen.entry(id.to_string()).or_insert(0);
        let slug = if *count == 0 {
            id.to_string()
        } else {
            format!("{id}-{count}")
        };
        *count += 1;
        slug
    }

    fn unique(&mut self, title: &str) -> String {
        let mut base: String = title
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        if base.is_empty() {
            base = "section".into();
        }
        let count = self.seen.entry(base.clone()).or_insert(0);
        let slug = if *count == 0 {
            base
        } else {
            format!("{base}-{count}")
        };
        *count += 1;
        slug
    }
}

/// Pages in path order.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    pub pages: Vec<Page>,
}

/// Why a corpus could not be loaded.
#[derive(Debug)]
pub enum CorpusError {
    /// The folder does not exist or is not a folder.
    NotAFolder(PathBuf),
    /// Nothing to serve.
    NoMarkdown(PathBuf),
    /// A file could not be read.
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for CorpusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorpusError::NotAFolder(path) => {
                write!(f, "DOCS_DIR={} is not a readable folder", path.display())
            }
            CorpusError::NoMarkdown(path) => write!(
                f,
                "DOCS_DIR={} holds no Markdown files (.md or .mdx)",
                path.display()
            ),
            CorpusError::Io(path, error) => write!(f, "cannot read {}: {error}", path.display()),
        }
    }
}

impl std::error::Error for CorpusError {}

impl Corpus {
    /// Builds a corpus from `(path, text)` pairs, includes resolved.
    pub fn from_texts<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Corpus {
        let texts: Vec<(String, String)> = files
            .into_iter()
            .map(|(path, text)| (path.to_string(), text.to_string()))
            .collect();
        let (resolved, included) = includes::resolve(&texts);
        let mut pages: Vec<Page> = texts
            .iter()
            .zip(&resolved)
            .map(|((path, _), text)| {
                let mut page = Page::parse(path, text);
                page.fragment = included.contains(path);
                page
            })
            .collect();
        pages.sort_by(|a, b| a.path.cmp(&b.path));
        Corpus { pages }
    }

    /// Reads every `.md` and `.mdx` file under `root` that [`read_folder`] admits (hidden
    /// folders, `node_modules`, links out of the folder and anything not a regular file are
    /// skipped, with a warning), under the default [`Limits`].
    pub fn load(root: &Path) -> Result<Corpus, CorpusError> {
        let (texts, _) = read_folder(root, Limits::default())?;
        Ok(Corpus::from_texts(
            texts.iter().map(|(p, t)| (p.as_str(), t.as_str())),
        ))
    }

    /// The page at `path`.
    pub fn page(&self, path: &str) -> Option<&Page> {
        self.pages
            .binary_search_by(|p| p.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.pages[i])
    }

    /// Up to `n` page paths closest to `path` (for "did you mean").
    pub fn closest_paths(&self, path: &str, n: usize) -> Vec<String> {
        let wanted = path.to_lowercase();
        let mut scored: Vec<(f64, &str)> = self
            .pages
            .iter()
            .map(|p| {
                let candidate = p.path.to_lowercase();
                let mut score = strsim::normalized_levenshtein(&wanted, &candidate);
                let stem = wanted.trim_end_matches(".mdx").trim_end_matches(".md");
                if !stem.is_empty() && candidate.contains(stem) {
                    score += 0.5;
                }
                (score, p.path.as_str())
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        scored
            .into_iter()
            .take(n)
            .map(|(_, p)| p.to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests;
