//! What each unit is indexed with beyond its own text (its page's title and intro), and the
//! fingerprints that make the same text under several pages one hit.

use rustc_hash::FxHashMap;
use std::hash::{Hash, Hasher};

use super::super::corpus::Corpus;

/// Characters of a page's opening prose searched with every unit of the page (what the page is
/// about: "List of all properties of a Load Balanced Web Service manifest").
const INTRO_CHARS: usize = 300;

/// The page title field: the title and the file name's words (`svc-exec.en.md`: `svc exec`).
pub(super) fn page_title_text(page: &super::super::corpus::Page) -> String {
    let file = page.path.rsplit('/').next().unwrap_or(&page.path);
    let stem = file.split('.').next().unwrap_or(file);
    if matches!(
        stem.to_ascii_lowercase().as_str(),
        "index" | "readme" | "_index"
    ) {
        return page.title.clone();
    }
    format!("{} {}", page.title, stem.replace(['-', '_'], " "))
}

/// Units with less text than this are never collapsed: two `## Examples` headings with a line
/// each are two answers.
const MIN_COLLAPSED_CHARS: usize = 40;

/// The page's description and the start of its prose.
pub(super) fn page_intro_text(page: &super::super::corpus::Page) -> String {
    let mut intro = page.description.clone().unwrap_or_default();
    let prose = page
        .units
        .iter()
        .map(|u| u.text.prose.as_str())
        .find(|p| !p.trim().is_empty());
    if let Some(prose) = prose {
        let cut = prose
            .char_indices()
            .nth(INTRO_CHARS)
            .map_or(prose.len(), |(i, _)| i);
        intro.push(' ');
        intro.push_str(&prose[..cut]);
    }
    intro
}

pub(super) fn fingerprint(unit: &super::super::units::Unit) -> u64 {
    if unit.text.prose.len() + unit.text.code.len() < MIN_COLLAPSED_CHARS {
        return 0;
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    unit.title.hash(&mut hasher);
    unit.text.prose.hash(&mut hasher);
    unit.text.code.hash(&mut hasher);
    hasher.finish().max(1)
}

/// The fingerprints several slots share, each with its slots: a fragment's first. Keyed with a
/// fast hash (a fingerprint is already one, of the documentation's own text): every hit of
/// every search looks its fingerprint up here.
pub(super) fn copies(
    prints: &[u64],
    slots: &[(usize, usize)],
    corpus: &Corpus,
) -> FxHashMap<u64, Vec<usize>> {
    let mut groups: FxHashMap<u64, Vec<usize>> = FxHashMap::default();
    for (slot, &print) in prints.iter().enumerate() {
        if print != 0 {
            groups.entry(print).or_default().push(slot);
        }
    }
    groups.retain(|_, group| group.len() > 1);
    for group in groups.values_mut() {
        group.sort_by_key(|s| !corpus.pages[slots[*s].0].fragment);
    }
    groups
}
