//! The served documentation: a corpus and its search index as one immutable snapshot, swapped
//! whole when `DOCS_DIR` changes.
//!
//! Reload polls file sizes and modification times every `DOCS_RELOAD_INTERVAL` rather than using
//! inotify: it also works on network and container-mounted volumes, and costs one `stat` per
//! file. A new snapshot is built off the async threads; requests keep using the old one until the
//! swap, so none fails during a rebuild. A rebuild that fails (the folder emptied, a file
//! unreadable) is logged and the old snapshot stays.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use super::corpus::{Corpus, CorpusError};
use super::folder::markdown_files;
use super::search::SearchIndex;
use super::variants::VariantRules;
use crate::sessions::changes::{Change, ChangeFeed};

include!(concat!(env!("OUT_DIR"), "/embedded_docs.rs"));

/// A corpus with its index.
pub struct Snapshot {
    pub corpus: Corpus,
    pub index: SearchIndex,
}

impl Snapshot {
    fn build(corpus: Corpus, rules: &VariantRules) -> Result<Snapshot, String> {
        let index = SearchIndex::build_with(&corpus, rules).map_err(|e| e.to_string())?;
        if let Some(version) = &rules.default_version
            && !index.versions.contains(version)
        {
            tracing::warn!(
                version,
                known = index.versions.join(", "),
                "DOCS_VERSION names no version of the documentation; searches without a version see only pages that have none"
            );
        }
        Ok(Snapshot { corpus, index })
    }
}

/// Where the pages come from.
#[derive(Debug, Clone)]
enum Source {
    /// Compiled into the binary: this project's docs.
    Embedded,
    /// A folder on disk, watched for changes.
    Folder(PathBuf),
}

/// What `stat` says about every Markdown file under the folder.
type Fingerprint = Vec<(String, u64, Option<SystemTime>)>;

/// The documentation the server answers from.
pub struct Library {
    current: RwLock<Arc<Snapshot>>,
    source: Source,
    rules: VariantRules,
    fingerprint: RwLock<Fingerprint>,
    /// Told when the pages change.
    pub changes: ChangeFeed,
}

impl Library {
    /// The embedded docs, or the Markdown under `folder`, with the default variant rules.
    pub fn load(folder: Option<&Path>) -> Result<Arc<Library>, CorpusError> {
        Self::load_with(folder, VariantRules::default())
    }

    /// The embedded docs, or the Markdown under `folder`; `rules` tell versions and languages
    /// apart. Logs how long indexing took.
    pub fn load_with(
        folder: Option<&Path>,
        rules: VariantRules,
    ) -> Result<Arc<Library>, CorpusError> {
        let started = Instant::now();
        let (source, corpus, fingerprint) = match folder {
            None => (
                Source::Embedded,
                Corpus::from_texts(EMBEDDED_DOCS.iter().copied()),
                Vec::new(),
            ),
            Some(folder) => {
                let fingerprint = fingerprint(folder)?;
                (
                    Source::Folder(folder.to_path_buf()),
                    Corpus::load(folder)?,
                    fingerprint,
                )
            }
        };
        let snapshot = Snapshot::build(corpus, &rules).map_err(|e| {
            CorpusError::Io(
                folder.map(Path::to_path_buf).unwrap_or_default(),
                std::io::Error::other(e),
            )
        })?;
        tracing::info!(
            source = %source.describe(),
            pages = snapshot.corpus.pages.len(),
            sections = snapshot.index.len(),
            build_ms = started.elapsed().as_secs_f64() * 1000.0,
            "documentation indexed"
        );
        Ok(Arc::new(Library {
            current: RwLock::new(Arc::new(snapshot)),
            source,
            rules,
            fingerprint: RwLock::new(fingerprint),
            changes: ChangeFeed::default(),
        }))
    }

    /// The snapshot to answer one request from.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.read().expect("snapshot lock").clone()
    }

    /// Polls the folder every `interval` and swaps in a new snapshot when it changed; does
    /// nothing for the embedded docs.
    pub fn watch(self: &Arc<Self>, interval: Duration) {
        let Source::Folder(folder) = &self.source else {
            return;
        };
        let folder = folder.clone();
        let library = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(library) = library.upgrade() else {
                    return;
                };
                let folder = folder.clone();
                let checked =
                    tokio::task::spawn_blocking(move || library.reload_if_changed(&folder)).await;
                if let Err(error) = checked {
                    tracing::error!(%error, "Error in the documentation reload task");
                }
            }
        });
    }

    /// Rebuilds when the folder's fingerprint changed; returns whether a new snapshot is live.
    pub fn reload_if_changed(&self, folder: &Path) -> bool {
        let now = match fingerprint(folder) {
            Ok(now) => now,
            Err(error) => {
                tracing::error!(%error, "Error checking the documentation folder; keeping the current pages");
                return false;
            }
        };
        if *self.fingerprint.read().expect("fingerprint lock") == now {
            return false;
        }
        let started = Instant::now();
        let rebuilt = Corpus::load(folder)
            .map_err(|e| e.to_string())
            .and_then(|corpus| Snapshot::build(corpus, &self.rules));
        // Remember what was seen either way, so a broken state is reported once, not every tick.
        *self.fingerprint.write().expect("fingerprint lock") = now;
        match rebuilt {
            Ok(snapshot) => {
                let (pages, sections) = (snapshot.corpus.pages.len(), snapshot.index.len());
                *self.current.write().expect("snapshot lock") = Arc::new(snapshot);
                let told = self.changes.publish(Change::ResourcesListChanged);
                tracing::info!(
                    pages,
                    sections,
                    build_ms = started.elapsed().as_secs_f64() * 1000.0,
                    listeners = told,
                    "documentation reloaded"
                );
                true
            }
            Err(error) => {
                tracing::error!(%error, "Error reloading the documentation; keeping the current pages");
                false
            }
        }
    }
}

impl Source {
    fn describe(&self) -> String {
        match self {
            Source::Embedded => "embedded".into(),
            Source::Folder(folder) => folder.display().to_string(),
        }
    }
}

fn fingerprint(folder: &Path) -> Result<Fingerprint, CorpusError> {
    if !folder.is_dir() {
        return Err(CorpusError::NotAFolder(folder.to_path_buf()));
    }
    let mut seen = Vec::new();
    for file in markdown_files(folder)?.files {
        let metadata =
            std::fs::metadata(&file.full).map_err(|e| CorpusError::Io(file.full.clone(), e))?;
        seen.push((file.relative, metadata.len(), metadata.modified().ok()));
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_docs_include_the_readme_and_the_docs_folder() {
        let library = Library::load(None).unwrap();
        let snapshot = library.snapshot();
        assert!(snapshot.corpus.page("README.md").is_some());
        assert!(
            snapshot.corpus.pages.len() > 1,
            "docs/ pages are embedded too"
        );
    }

    #[test]
    fn reload_swaps_in_changes_and_keeps_the_old_pages_on_failure() {
        let folder = std::env::temp_dir().join(format!("docs-reload-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("a.md"), "# Alpha\n\nfirst words\n").unwrap();
        let library = Library::load(Some(&folder)).unwrap();
        let mut changes = library.changes.subscribe();
        assert!(!library.reload_if_changed(&folder), "nothing changed yet");

        std::fs::write(folder.join("b.md"), "# Beta\n\nsecond words\n").unwrap();
        assert!(library.reload_if_changed(&folder));
        assert_eq!(library.snapshot().corpus.pages.len(), 2);
        assert_eq!(changes.try_recv().ok(), Some(Change::ResourcesListChanged));

        std::fs::remove_file(folder.join("a.md")).unwrap();
        std::fs::remove_file(folder.join("b.md")).unwrap();
        assert!(
            !library.reload_if_changed(&folder),
            "an empty folder is not served"
        );
        assert_eq!(library.snapshot().corpus.pages.len(), 2, "old pages stay");
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
