//! The served documentation: a corpus and its search index as one immutable snapshot, swapped
//! whole when the source changes.
//!
//! A folder is polled every `DOCS_RELOAD_INTERVAL` by file sizes and modification times rather
//! than inotify: it also works on network and container-mounted volumes, and costs one `stat`
//! per file. An S3 prefix is polled by one listing that compares ETags (see [`super::s3`]). A
//! new snapshot is built off the async threads; requests keep using the old one until the swap,
//! so none fails or waits during a rebuild. A check that fails (the folder emptied, S3
//! unreachable) is logged at error and shown in `/health`, and the old snapshot stays.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use std::time::{Duration, Instant, SystemTime};

use super::corpus::{Corpus, CorpusError};
use super::folder::{markdown_files, read_folder};
use super::s3::{Refresh, S3Docs, S3Settings};
use super::search::SearchIndex;
use super::source::{Limits, content_version};
use super::variants::VariantRules;
use crate::sessions::changes::{Change, ChangeFeed};
use checks::Checks;

mod checks;

include!(concat!(env!("OUT_DIR"), "/embedded_docs.rs"));

/// Tries at start-up before an S3 source is given up (waits of 0.5, 1, 2 and 4 s between).
pub const S3_START_ATTEMPTS: u32 = 5;

/// A corpus with its index.
pub struct Snapshot {
    pub corpus: Corpus,
    pub index: SearchIndex,
    /// What `search_docs` answers write of each unit, once written (see `tools/rendered.rs`).
    pub rendered: super::tools::Renders,
    /// Names the pages served ([`content_version`]): the same on every task serving them.
    pub version: String,
    /// Bytes of page text.
    pub bytes: u64,
    /// When it was built.
    pub loaded_at: SystemTime,
}

impl Snapshot {
    fn build<'a>(
        texts: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
        rules: &VariantRules,
    ) -> Result<Snapshot, String> {
        let version = content_version(texts.clone());
        let bytes = texts.clone().into_iter().map(|(_, t)| t.len() as u64).sum();
        let corpus = Corpus::from_texts(texts);
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
        Ok(Snapshot {
            rendered: super::tools::Renders::new(&corpus),
            corpus,
            index,
            version,
            bytes,
            loaded_at: SystemTime::now(),
        })
    }
}

/// Where the pages come from.
enum Source {
    /// Compiled into the binary: this project's docs.
    Embedded,
    /// A folder on disk, watched for changes.
    Folder {
        folder: PathBuf,
        limits: Limits,
        /// What `stat` said about every Markdown file at the last check, and whether those
        /// files are the ones served (not when they could not be).
        fingerprint: Mutex<(Fingerprint, bool)>,
    },
    /// A prefix of an S3 bucket, and the texts read from it.
    S3 {
        name: String,
        docs: Box<tokio::sync::Mutex<S3Docs>>,
        requests: Arc<std::sync::atomic::AtomicU64>,
    },
}

/// What `stat` says about every Markdown file under the folder.
type Fingerprint = Vec<(String, u64, Option<SystemTime>)>;

/// The documentation the server answers from.
pub struct Library {
    current: ArcSwap<Snapshot>,
    source: Source,
    rules: VariantRules,
    checks: Mutex<Checks>,
    /// Told when the pages change.
    pub changes: ChangeFeed,
}

impl Library {
    /// The embedded docs, or the Markdown under `folder`, with the default variant rules.
    pub fn load(folder: Option<&Path>) -> Result<Arc<Library>, CorpusError> {
        Self::load_with(folder, VariantRules::default(), Limits::default())
    }

    /// The embedded docs, or the Markdown under `folder` within `limits`; `rules` tell versions
    /// and languages apart. Logs how long indexing took.
    pub fn load_with(
        folder: Option<&Path>,
        rules: VariantRules,
        limits: Limits,
    ) -> Result<Arc<Library>, CorpusError> {
        let started = Instant::now();
        let mut folder_skipped = 0;
        let (source, snapshot) = match folder {
            None => (
                Source::Embedded,
                Snapshot::build(EMBEDDED_DOCS.iter().copied(), &rules),
            ),
            Some(folder) => {
                let fingerprint = fingerprint(folder, limits)?;
                let (texts, skipped) = read_folder(folder, limits)?;
                folder_skipped = skipped;
                (
                    Source::Folder {
                        folder: folder.to_path_buf(),
                        limits,
                        fingerprint: Mutex::new((fingerprint, true)),
                    },
                    Snapshot::build(pairs(&texts), &rules),
                )
            }
        };
        let snapshot = snapshot.map_err(|e| {
            CorpusError::Io(
                folder.map(Path::to_path_buf).unwrap_or_default(),
                std::io::Error::other(e),
            )
        })?;
        let library = Self::serve(source, snapshot, rules, started);
        library.checks.lock().expect("checks lock").skipped = folder_skipped;
        Ok(library)
    }

    /// The Markdown under an S3 prefix. S3 unreachable, or no page to serve, is tried
    /// [`S3_START_ATTEMPTS`] times with growing waits; then the error names the bucket, the
    /// prefix and the cause.
    pub async fn load_s3(
        settings: S3Settings,
        rules: VariantRules,
    ) -> Result<Arc<Library>, String> {
        let started = Instant::now();
        let location = settings.location.clone();
        let mut docs = S3Docs::connect(settings).await;
        let mut wait = Duration::from_millis(500);
        let mut attempt = 1;
        let pages = loop {
            match docs.refresh().await {
                Ok(Refresh::Changed(pages)) => break pages,
                Ok(Refresh::Unchanged) => unreachable!("the first listing is always new"),
                Err(error) if attempt < S3_START_ATTEMPTS => {
                    tracing::warn!(
                        %error, bucket = location.bucket, prefix = location.prefix, attempt,
                        retry_in_ms = wait.as_millis() as u64,
                        "cannot read the documentation from S3 yet"
                    );
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    attempt += 1;
                }
                Err(error) => {
                    return Err(format!(
                        "cannot read the documentation from {location} (bucket '{}', prefix '{}') after {attempt} tries: {error}",
                        location.bucket, location.prefix
                    ));
                }
            }
        };
        let built = {
            let rules = rules.clone();
            tokio::task::spawn_blocking(move || {
                Snapshot::build(pages.iter().map(|(p, t)| (p.as_str(), &**t)), &rules)
            })
            .await
            .map_err(|e| e.to_string())?
        };
        let snapshot =
            built.map_err(|e| format!("cannot index the documentation from {location}: {e}"))?;
        let requests = docs.requests();
        let skipped = docs.skipped();
        let library = Self::serve(
            Source::S3 {
                name: location.to_string(),
                docs: Box::new(tokio::sync::Mutex::new(docs)),
                requests,
            },
            snapshot,
            rules,
            started,
        );
        library.checks.lock().expect("checks lock").skipped = skipped;
        Ok(library)
    }

    fn serve(
        source: Source,
        snapshot: Snapshot,
        rules: VariantRules,
        started: Instant,
    ) -> Arc<Library> {
        tracing::info!(
            source = %source.describe(),
            pages = snapshot.corpus.pages.len(),
            sections = snapshot.index.len(),
            version = snapshot.version,
            build_ms = started.elapsed().as_secs_f64() * 1000.0,
            "documentation indexed"
        );
        Arc::new(Library {
            current: ArcSwap::from_pointee(snapshot),
            source,
            rules,
            checks: Mutex::new(Checks::default()),
            changes: ChangeFeed::default(),
        })
    }

    /// The snapshot to answer one request from.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// The current snapshot, lent for a short piece of work (a search): no lock is taken and
    /// no count changed, which every search on two cores would do to the same memory.
    pub fn current(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.current.load()
    }

    /// Checks the source every `interval` and swaps in a new snapshot when it changed; does
    /// nothing for the embedded docs. The task ends when the library is dropped.
    pub fn watch(self: &Arc<Self>, interval: Duration) {
        if matches!(self.source, Source::Embedded) {
            return;
        }
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
                library.check().await;
            }
        });
    }

    /// Checks the source once; returns whether a new snapshot is live.
    pub async fn check(self: &Arc<Self>) -> bool {
        match &self.source {
            Source::Embedded => false,
            Source::Folder { .. } => {
                let library = self.clone();
                match tokio::task::spawn_blocking(move || library.reload_if_changed()).await {
                    Ok(swapped) => swapped,
                    Err(error) => {
                        self.failed(format!("the reload task failed: {error}"));
                        false
                    }
                }
            }
            Source::S3 { docs, .. } => {
                // Held through the build and the swap: one check at a time, in order.
                let mut docs = docs.lock().await;
                let started = Instant::now();
                let pages = match docs.refresh().await {
                    Ok(Refresh::Unchanged) => {
                        self.succeeded(None);
                        return false;
                    }
                    Ok(Refresh::Changed(pages)) => pages,
                    Err(error) => {
                        self.failed(error);
                        return false;
                    }
                };
                let rules = self.rules.clone();
                let built = tokio::task::spawn_blocking(move || {
                    Snapshot::build(pages.iter().map(|(p, t)| (p.as_str(), &**t)), &rules)
                })
                .await
                .map_err(|e| e.to_string())
                .and_then(|built| built);
                match built {
                    Ok(snapshot) => {
                        docs.served();
                        self.succeeded(Some(docs.skipped()));
                        self.swap(snapshot, started)
                    }
                    Err(error) => {
                        self.failed(error);
                        false
                    }
                }
            }
        }
    }

    /// A folder's check: rebuilds when its fingerprint changed (blocking).
    pub fn reload_if_changed(&self) -> bool {
        let Source::Folder {
            folder,
            limits,
            fingerprint: seen,
        } = &self.source
        else {
            return false;
        };
        let now = match fingerprint(folder, *limits) {
            Ok(now) => now,
            Err(error) => {
                self.failed(error.to_string());
                return false;
            }
        };
        let mut seen = seen.lock().expect("fingerprint lock");
        if seen.0 == now {
            // Unchanged: fine if these files are served; still failing if they could not be.
            match seen.1 {
                true => self.succeeded(None),
                false => {
                    self.checks.lock().expect("checks lock").last_check_at = Some(SystemTime::now())
                }
            }
            return false;
        }
        let started = Instant::now();
        let rebuilt = read_folder(folder, *limits)
            .map_err(|e| e.to_string())
            .and_then(|(texts, skipped)| {
                Ok((Snapshot::build(pairs(&texts), &self.rules)?, skipped))
            });
        // Remember what was seen either way, so a broken state is reported once, not every tick.
        *seen = (now, rebuilt.is_ok());
        drop(seen);
        match rebuilt {
            Ok((snapshot, skipped)) => {
                self.succeeded(Some(skipped));
                self.swap(snapshot, started)
            }
            Err(error) => {
                self.failed(error);
                false
            }
        }
    }

    /// Puts `snapshot` in service and tells the listeners.
    fn swap(&self, snapshot: Snapshot, started: Instant) -> bool {
        let (pages, sections) = (snapshot.corpus.pages.len(), snapshot.index.len());
        let version = snapshot.version.clone();
        self.current.store(Arc::new(snapshot));
        let told = self.changes.publish(Change::ResourcesListChanged);
        tracing::info!(
            pages,
            sections,
            version,
            build_ms = started.elapsed().as_secs_f64() * 1000.0,
            listeners = told,
            "documentation reloaded"
        );
        true
    }
}

impl Source {
    fn describe(&self) -> String {
        match self {
            Source::Embedded => "embedded".into(),
            Source::Folder { folder, .. } => folder.display().to_string(),
            Source::S3 { name, .. } => name.clone(),
        }
    }
}

fn pairs(texts: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> + Clone {
    texts.iter().map(|(p, t)| (p.as_str(), t.as_str()))
}

fn fingerprint(folder: &Path, limits: Limits) -> Result<Fingerprint, CorpusError> {
    if !folder.is_dir() {
        return Err(CorpusError::NotAFolder(folder.to_path_buf()));
    }
    let mut seen = Vec::new();
    for file in markdown_files(folder, limits.page_bytes)?.files {
        let metadata =
            std::fs::metadata(&file.full).map_err(|e| CorpusError::Io(file.full.clone(), e))?;
        seen.push((file.relative, metadata.len(), metadata.modified().ok()));
    }
    Ok(seen)
}

#[cfg(test)]
mod tests;
