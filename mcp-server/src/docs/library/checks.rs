//! How the checks of the documentation's source go, for `/health` and the logs.

use std::time::SystemTime;

use serde_json::{Value, json};

use super::{Library, Source};

/// How the checks of the source went, for `/health`.
#[derive(Debug, Default, Clone)]
pub(super) struct Checks {
    pub(super) last_check_at: Option<SystemTime>,
    pub(super) failing: bool,
    pub(super) last_error: Option<String>,
    pub(super) last_error_at: Option<SystemTime>,
    pub(super) skipped: usize,
}

impl Library {
    pub(super) fn succeeded(&self, skipped: Option<usize>) {
        let mut checks = self.checks.lock().expect("checks lock");
        if checks.failing {
            tracing::info!(source = %self.source.describe(), "documentation source readable again");
        }
        checks.last_check_at = Some(SystemTime::now());
        checks.failing = false;
        if let Some(skipped) = skipped {
            checks.skipped = skipped;
        }
    }

    pub(super) fn failed(&self, error: String) {
        tracing::error!(
            %error, source = %self.source.describe(),
            "Error checking the documentation; keeping the current pages"
        );
        let mut checks = self.checks.lock().expect("checks lock");
        let now = SystemTime::now();
        checks.last_check_at = Some(now);
        checks.failing = true;
        checks.last_error = Some(error);
        checks.last_error_at = Some(now);
    }

    /// `docs` in `/health`: the source, the pages served and their version, when they were
    /// loaded, and how the checks go.
    pub fn health(&self) -> Value {
        let snapshot = self.snapshot();
        let checks = self.checks.lock().expect("checks lock").clone();
        let requests = match &self.source {
            Source::S3 { requests, .. } => {
                Some(requests.load(std::sync::atomic::Ordering::Relaxed))
            }
            _ => None,
        };
        json!({
            "source": self.source.describe(),
            "pages": snapshot.corpus.pages.len(),
            "sections": snapshot.index.len(),
            "bytes": snapshot.bytes,
            "version": snapshot.version,
            "loadedAt": epoch_seconds(Some(snapshot.loaded_at)),
            "lastCheckAt": epoch_seconds(checks.last_check_at),
            "refreshFailing": checks.failing,
            "lastError": checks.last_error,
            "lastErrorAt": epoch_seconds(checks.last_error_at),
            "skipped": checks.skipped,
            "s3Requests": requests,
        })
    }
}

fn epoch_seconds(at: Option<SystemTime>) -> Option<u64> {
    at.map(|at| {
        at.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    })
}
