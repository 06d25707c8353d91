//! Which pages a search looks at: one variant of each page for a version and language filter,
//! and each page's other variants, both built once per index.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use super::{Filter, SearchError, SearchIndex};
use crate::docs::variants::{self, Variant};

impl SearchIndex {
    /// The other versions and languages of page `page` (indexes into the corpus's pages).
    pub fn variants_of(&self, page: usize) -> &[usize] {
        self.siblings.get(page).map_or(&[], Vec::as_slice)
    }

    /// The pages `filter` looks at (one variant per page), or why the filter names nothing the
    /// corpus has. The default view (most searches) is lent: no lock is taken and no count
    /// changed, which every search on two cores would do to the same memory.
    pub fn view(&self, filter: &Filter) -> Result<Cow<'_, Arc<Vec<bool>>>, SearchError> {
        let newest = filter.version.as_deref() == Some("latest")
            && !self.versions.iter().any(|v| v == "latest");
        if filter.language.is_none() && (filter.version.is_none() || newest) {
            return Ok(Cow::Borrowed(&self.default_view));
        }
        let mut filter = filter.clone();
        if newest {
            filter.version = None;
        }
        if let Some(version) = &filter.version
            && !self.versions.contains(version)
        {
            return Err(SearchError::UnknownVariant(format!(
                "no version {version:?}; the documentation has {}",
                listing(&self.versions)
            )));
        }
        if let Some(language) = &filter.language
            && !self.languages.contains(language)
        {
            return Err(SearchError::UnknownVariant(format!(
                "no language {language:?}; the documentation has {}",
                listing(&self.languages)
            )));
        }
        let mut views = self.views.lock().expect("views lock");
        let chosen = views.entry(filter.clone()).or_insert_with(|| {
            Arc::new(variants::choose(
                &self.variants,
                &self.rules,
                filter.version.as_deref(),
                filter.language.as_deref(),
            ))
        });
        Ok(Cow::Owned(chosen.clone()))
    }
}

/// For each page, the other pages with the same variant key, in corpus order.
pub(super) fn siblings(variants: &[Variant]) -> Vec<Vec<usize>> {
    let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (p, variant) in variants.iter().enumerate() {
        groups.entry(variant.key.as_str()).or_default().push(p);
    }
    variants
        .iter()
        .enumerate()
        .map(|(p, variant)| {
            groups[variant.key.as_str()]
                .iter()
                .copied()
                .filter(|&other| other != p)
                .collect()
        })
        .collect()
}

fn listing(values: &[String]) -> String {
    if values.is_empty() {
        "none".into()
    } else {
        values.join(", ")
    }
}
