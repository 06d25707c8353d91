//! Fragments pulled into pages: `{% include 'file.md' %}` (mkdocs-macros, Jekyll, Jinja) and
//! MDX imports (`import Fields from './_fields.mdx'` used as `<Fields />`).
//!
//! The fragment's text replaces the directive before the page is split into sections, so the
//! page reads, searches and links as its readers see it rendered. A fragment is found next to
//! the page, then from the corpus root, then as the one file of that name anywhere in the corpus
//! (the shortest path when several; mkdocs looks in its `include` folder). Includes nest up to
//! [`MAX_DEPTH`] deep, a fragment that includes itself is not followed, and a page never grows
//! beyond [`MAX_RESOLVED_BYTES`] (what a fragment includes counts, however deep). Files that
//! some page includes are fragments: their text is one source, so a search that finds it
//! returns the fragment and lists the pages that include it (`alsoIn`).

use std::collections::{HashMap, HashSet};

/// Deepest nesting of includes followed.
pub const MAX_DEPTH: usize = 4;
/// Largest page after its includes are resolved; further includes are left out.
pub const MAX_RESOLVED_BYTES: usize = 8 << 20;

/// The texts with their includes resolved, and the paths of the files that were included.
pub fn resolve(texts: &[(String, String)]) -> (Vec<String>, HashSet<String>) {
    let by_path: HashMap<&str, &str> = texts
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let mut by_name: HashMap<&str, Vec<&str>> = HashMap::new();
    for (path, _) in texts {
        by_name.entry(file_name(path)).or_default().push(path);
    }
    for paths in by_name.values_mut() {
        paths.sort_by_key(|p| (p.len(), *p));
    }
    let finder = Finder {
        by_path,
        by_name,
        #[cfg(test)]
        expansions: Default::default(),
    };
    let mut included = HashSet::new();
    let resolved = texts
        .iter()
        .map(|(path, text)| {
            if !text.contains("{%") && !text.contains("import ") {
                return text.clone();
            }
            let mut stack = vec![path.as_str()];
            finder.expand(path, text, &mut stack, &mut included, MAX_RESOLVED_BYTES)
        })
        .collect();
    (resolved, included)
}

struct Finder<'a> {
    by_path: HashMap<&'a str, &'a str>,
    by_name: HashMap<&'a str, Vec<&'a str>>,
    /// How many texts were expanded (tests hold the work to what is spliced in).
    #[cfg(test)]
    expansions: std::cell::Cell<usize>,
}

impl<'a> Finder<'a> {
    /// The corpus path a reference from `page` names.
    fn find(&self, page: &str, reference: &str) -> Option<&'a str> {
        let reference = reference.trim().trim_start_matches("@site/");
        let folder = page.rsplit_once('/').map_or("", |(f, _)| f);
        let candidates = [join(folder, reference), normalize(reference)];
        for candidate in candidates.iter().flatten() {
            if let Some((path, _)) = self.by_path.get_key_value(candidate.as_str()) {
                return Some(path);
            }
        }
        let stripped = reference
            .trim_start_matches("./")
            .trim_start_matches("docs/");
        if let Some((path, _)) = self.by_path.get_key_value(stripped) {
            return Some(path);
        }
        self.by_name.get(file_name(reference))?.first().copied()
    }

    /// `text` with its includes spliced in; an include that would take the result past `room`
    /// bytes (with what it includes, its indentation and the rest of `text`) is left as it is.
    /// `included` gains the fragments spliced in, and only those.
    fn expand(
        &self,
        page: &str,
        text: &str,
        stack: &mut Vec<&'a str>,
        included: &mut HashSet<String>,
        room: usize,
    ) -> String {
        #[cfg(test)]
        self.expansions.set(self.expansions.get() + 1);
        let imports = mdx_imports(text);
        let mut out = String::with_capacity(text.len());
        let mut fence = false;
        // The bytes of `text` not yet read: what follows an include still has to fit.
        let mut rest = text.len();
        // The fragments found too big, by indentation, with the room they were found too big
        // for: the same include in the same room expands to the same text, so it is left as
        // it is without expanding it again (in other room its includes may expand otherwise).
        let mut too_big: HashSet<(&str, usize, usize)> = HashSet::new();
        for line in text.split_inclusive('\n') {
            rest -= line.len();
            let trimmed = line.trim();
            if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
                fence = !fence;
            }
            let target = if fence {
                None
            } else if let Some(reference) = jinja_include(trimmed) {
                self.find(page, reference)
            } else if let Some(name) = jsx_use(trimmed) {
                imports
                    .get(name)
                    .and_then(|reference| self.find(page, reference))
            } else {
                None
            };
            let Some(target) = target else {
                out.push_str(line);
                continue;
            };
            if stack.contains(&target) || stack.len() > MAX_DEPTH {
                out.push_str(line);
                continue;
            }
            let fragment = self.by_path[target];
            let left = room.saturating_sub(out.len() + rest);
            // Indented includes (inside a list or an admonition) keep their indentation.
            let indent = &line[..line.len() - line.trim_start().len()];
            if fragment.len() > left || too_big.contains(&(target, indent.len(), left)) {
                out.push_str(line);
                continue;
            }
            // What the fragment includes is held to what is left here, so no nesting of
            // includes multiplies a page past `room` (nor the work of expanding it).
            stack.push(target);
            let mut inner = HashSet::new();
            let expanded = self.expand(
                target,
                strip_front_matter(fragment),
                stack,
                &mut inner,
                left,
            );
            stack.pop();
            let lines = expanded.split_inclusive('\n').count();
            if expanded.len() + indent.len() * lines + 1 > left {
                too_big.insert((target, indent.len(), left));
                out.push_str(line);
                continue;
            }
            included.insert(target.to_string());
            included.extend(inner);
            for fragment_line in expanded.split_inclusive('\n') {
                out.push_str(indent);
                out.push_str(fragment_line);
            }
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        out
    }
}

/// The file named by a line that is only `{% include 'name' %}` (any quotes, `{%-` forms).
fn jinja_include(line: &str) -> Option<&str> {
    let inner = line
        .strip_prefix("{%")?
        .strip_suffix("%}")?
        .trim_matches('-')
        .trim();
    let rest = inner.strip_prefix("include")?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let end = rest[1..].find(quote)? + 1;
    Some(&rest[1..end])
}

/// `Name` from a line that is only `<Name />` (a component used as a block).
fn jsx_use(line: &str) -> Option<&str> {
    let name = line.strip_prefix('<')?.strip_suffix("/>")?.trim();
    (name.chars().next()?.is_ascii_uppercase()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    .then_some(name)
}

/// `import Name from './file.mdx'` lines naming Markdown files.
fn mdx_imports(text: &str) -> HashMap<&str, &str> {
    let mut imports = HashMap::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("import ") else {
            continue;
        };
        let Some((name, source)) = rest.split_once(" from ") else {
            continue;
        };
        let source = source
            .trim()
            .trim_end_matches(';')
            .trim_matches(['"', '\'']);
        if source.ends_with(".md") || source.ends_with(".mdx") {
            imports.insert(name.trim(), source);
        }
    }
    imports
}

fn strip_front_matter(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("---\n") else {
        return text;
    };
    match rest.find("\n---\n") {
        Some(end) => &rest[end + 5..],
        None => text,
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `folder/reference` with `.` and `..` resolved; `None` when it climbs out of the corpus.
fn join(folder: &str, reference: &str) -> Option<String> {
    if folder.is_empty() {
        normalize(reference)
    } else {
        normalize(&format!("{folder}/{reference}"))
    }
}

fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn jinja_includes_and_mdx_imports_are_spliced_in() {
        let (resolved, included) = resolve(&texts(&[
            (
                "docs/manifest/web.md",
                "# Web\n\n    {% include 'http.md' %}\nafter\n```\n{% include 'http.md' %}\n```\n",
            ),
            (
                "docs/include/http.md",
                "<a id=\"http\">http</a>\n{%- include \"nested.md\" -%}\n",
            ),
            (
                "docs/include/nested.md",
                "---\ntitle: x\n---\nnested\n{% include 'http.md' %}\n",
            ),
            (
                "guide.mdx",
                "import Fields from './_fields.mdx';\n\n# Guide\n\n<Fields />\n",
            ),
            ("_fields.mdx", "Field list.\n"),
        ]));
        assert_eq!(
            resolved[0],
            "# Web\n\n    <a id=\"http\">http</a>\n    nested\n    {% include 'http.md' %}\nafter\n```\n{% include 'http.md' %}\n```\n",
            "indented, nested, a cycle left alone, code untouched"
        );
        assert!(resolved[3].contains("# Guide\n\nField list.\n"));
        let mut included: Vec<_> = included.into_iter().collect();
        included.sort();
        assert_eq!(
            included,
            [
                "_fields.mdx",
                "docs/include/http.md",
                "docs/include/nested.md"
            ]
        );
    }

    #[test]
    fn references_never_climb_out_of_the_corpus() {
        assert_eq!(join("a", "../../x.md"), None);
        assert_eq!(join("a/b", "../x.md").as_deref(), Some("a/x.md"));
    }

    #[test]
    fn nested_includes_never_take_a_page_past_its_bound() {
        // Each fragment is under the bound, but what it includes multiplies it: 8 x 8 x 256 KiB.
        let leaf = format!("<{}>\n", "x".repeat(256 << 10));
        let middle = "{% include 'leaf.md' %}\n".repeat(8);
        let page = "  {% include 'middle.md' %}\n".repeat(8);
        let (resolved, included) = resolve(&texts(&[
            ("page.md", &page),
            ("middle.md", &middle),
            ("leaf.md", &leaf),
        ]));
        assert!(
            resolved[0].len() <= MAX_RESOLVED_BYTES,
            "{}",
            resolved[0].len()
        );
        // As much as fits is spliced in (31 leaves of 64); the includes past it stay as written.
        let spliced = resolved[0].matches('<').count();
        assert!((28..32).contains(&spliced), "{spliced}");
        assert!(resolved[0].ends_with("  {% include 'leaf.md' %}\n"));
        assert!(included.contains("middle.md") && included.contains("leaf.md"));
        // A fragment that expands past what is left of the page is left out whole.
        assert_eq!(resolved[1].len(), 8 * leaf.len());

        // What follows an include counts: 7 MiB included before 4 MiB of the page's own text
        // does not fit, and the page is its own text.
        let own = format!("{}\n", "y".repeat(4 << 20));
        let big = format!("{}\n", "z".repeat(7 << 20));
        let page = format!("{{% include 'big.md' %}}\n{own}");
        let (resolved, included) = resolve(&texts(&[("page.md", &page), ("big.md", &big)]));
        assert_eq!(resolved[0], page);
        assert!(included.is_empty(), "nothing was spliced in: {included:?}");
    }

    #[test]
    fn an_include_too_big_for_its_room_is_not_expanded_again_nor_counted_as_included() {
        // Indented, each `middle` expands to more than the page has room for (its leaves fill
        // the room, and the indentation of its 10,000 lines does not fit); the page repeats
        // it 50 times. Expanded every time, that was 50 expansions of 1 MiB for nothing.
        let leaf = format!("{}\n", "x".repeat(1 << 10));
        let middle = "{% include 'leaf.md' %}\n".repeat(10_000);
        let page = "    {% include 'middle.md' %}\n".repeat(50);
        let finder = Finder {
            by_path: [
                ("page.md", page.as_str()),
                ("middle.md", &middle),
                ("leaf.md", &leaf),
            ]
            .into_iter()
            .collect(),
            by_name: HashMap::new(),
            expansions: Default::default(),
        };
        let mut included = HashSet::new();
        let resolved = finder.expand(
            "page.md",
            &page,
            &mut vec!["page.md"],
            &mut included,
            1 << 20,
        );
        assert!(resolved == page, "every include left as written");
        assert!(included.is_empty(), "{included:?}");
        // The page, one middle and its leaves (about 1,000): once.
        let expansions = finder.expansions.get();
        assert!(expansions < 2_000, "{expansions}");

        // Found too big indented, the same fragment still fits unindented in less room.
        let fragment = "123456789\n".repeat(10);
        let page = "    {% include 'f.md' %}\n{% include 'f.md' %}\n";
        let finder = Finder {
            by_path: [("page.md", page), ("f.md", fragment.as_str())]
                .into_iter()
                .collect(),
            by_name: HashMap::new(),
            expansions: Default::default(),
        };
        let resolved = finder.expand("page.md", page, &mut vec!["page.md"], &mut included, 126);
        assert_eq!(resolved, format!("    {{% include 'f.md' %}}\n{fragment}"));
    }
}
