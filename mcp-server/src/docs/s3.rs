//! Reading the documentation from S3 (`DOCS_DIR=s3://bucket/prefix/`).
//!
//! One `ListObjectsV2` listing (paged) of the prefix says what is there; an object is fetched
//! only when its ETag differs from the one its text was fetched at, so a check when nothing
//! changed costs one request per thousand keys and no download. An object is read at the ETag
//! it was listed with (`If-Match`), so the sizes the caps were checked against are the sizes
//! read; one that changed in between is read at the next check. The keys below the prefix are
//! the page paths; a key that would leave the corpus (`..`, an empty part, a leading `/`) or
//! hide (`.git/`, `node_modules/`) is skipped, as is anything over the caps ([`Limits`]), never
//! half-read. Every call is bounded by `DOCS_S3_TIMEOUT`, the body included. Credentials and
//! region come from the SDK's default chain (the task role on ECS); `AWS_ENDPOINT_URL` points
//! the client elsewhere (moto, MinIO).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;
use futures::StreamExt;

use super::source::{Admission, Limits, S3Location, servable_path};

/// GetObject calls at once during a refresh.
const FETCHES_AT_ONCE: usize = 8;
/// Keys a listing looks at, at most, as a multiple of `DOCS_MAX_PAGES` (at least 1,000): a
/// prefix full of other files cannot make each check list forever.
const KEYS_PER_PAGE_CAP: usize = 10;

/// How to reach the bucket.
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub location: S3Location,
    /// Bound on each call (`DOCS_S3_TIMEOUT`), retries and the body included.
    pub timeout: Duration,
    /// Path-style URLs (`DOCS_S3_PATH_STYLE`), for endpoints without bucket host names.
    pub path_style: bool,
    pub limits: Limits,
}

/// One Markdown object the listing found and the caps admit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    key: String,
    /// The key below the prefix: the page path.
    path: String,
    /// What tells one version of the object from another: its ETag, else its size and time.
    version: String,
    /// The ETag as S3 gave it (quotes included), for `If-Match`.
    etag: Option<String>,
    size: u64,
}

/// What one listing found.
#[derive(Debug, Default, PartialEq, Eq)]
struct Listing {
    objects: Vec<Listed>,
    /// `(path, why)` of Markdown keys not served.
    skipped: Vec<(String, String)>,
    /// Whether the listing stopped at its key cap.
    truncated: bool,
}

/// The outcome of a check.
#[derive(Debug)]
pub enum Refresh {
    /// The listing is the one last read: nothing to rebuild.
    Unchanged,
    /// The pages to serve now, `(path, text)` in path order.
    Changed(Vec<(String, Arc<str>)>),
}

/// A bucket prefix and the texts read from it so far.
pub struct S3Docs {
    client: Client,
    settings: S3Settings,
    /// Texts by page path, with the version each was read at.
    texts: HashMap<String, (String, Arc<str>)>,
    /// Objects refused when read (not UTF-8, refused by S3), by path, with the version refused
    /// and why: not read again until they change.
    refused: HashMap<String, (String, String)>,
    /// The listing whose pages are served.
    last: Option<Listing>,
    /// The listing of the pages the last `Changed` handed out, until they are served.
    pending: Option<Listing>,
    /// What was skipped at the last change, already logged.
    logged: Vec<(String, String)>,
    /// S3 requests made, for `/health` and the benchmark.
    requests: Arc<AtomicU64>,
}

impl S3Docs {
    /// A client for `settings` from the default chain (nothing is called yet).
    pub async fn connect(settings: S3Settings) -> S3Docs {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(settings.timeout.min(Duration::from_secs(3)))
            .read_timeout(settings.timeout)
            .operation_attempt_timeout(settings.timeout)
            .operation_timeout(settings.timeout)
            .build();
        let shared = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(timeouts)
            .load()
            .await;
        let config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(settings.path_style)
            .build();
        S3Docs {
            client: Client::from_conf(config),
            settings,
            texts: HashMap::new(),
            refused: HashMap::new(),
            last: None,
            pending: None,
            logged: Vec::new(),
            requests: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The S3 requests made so far.
    pub fn requests(&self) -> Arc<AtomicU64> {
        self.requests.clone()
    }

    /// Objects refused at the last change.
    pub fn skipped(&self) -> usize {
        self.logged.len()
    }

    /// Lists the prefix and reads what changed. The first error (S3 unreachable, a call over
    /// `DOCS_S3_TIMEOUT`, nothing to serve) ends the check and the reads still running; what
    /// was read is kept, and the next check starts over from the listing served.
    pub async fn refresh(&mut self) -> Result<Refresh, String> {
        let listing = self.list().await?;
        if self.last.as_ref() == Some(&listing) {
            return Ok(Refresh::Unchanged);
        }
        let stale: Vec<Listed> = listing
            .objects
            .iter()
            .filter(|o| {
                let read = self.texts.get(&o.path).map(|(v, _)| v);
                let refused = self.refused.get(&o.path).map(|(v, _)| v);
                read != Some(&o.version) && refused != Some(&o.version)
            })
            .cloned()
            .collect();
        let reader = Reader {
            client: self.client.clone(),
            settings: self.settings.clone(),
            requests: self.requests.clone(),
        };
        let mut reads = futures::stream::iter(stale)
            .map(move |object| reader.clone().fetch(object))
            .buffer_unordered(FETCHES_AT_ONCE);
        let mut moved = false;
        while let Some(read) = reads.next().await {
            match read? {
                Fetched::Text {
                    path,
                    version,
                    text,
                } => {
                    self.refused.remove(&path);
                    self.texts.insert(path, (version, text));
                }
                Fetched::Refused { path, version, why } => {
                    self.texts.remove(&path);
                    self.refused.insert(path, (version, why));
                }
                Fetched::Moved => moved = true,
            }
        }
        drop(reads);
        let listed: std::collections::HashSet<&str> =
            listing.objects.iter().map(|o| o.path.as_str()).collect();
        self.texts.retain(|path, _| listed.contains(path.as_str()));
        self.refused
            .retain(|path, _| listed.contains(path.as_str()));
        // A page that changed while it was read keeps its last text until the next check.
        let pages: Vec<(String, Arc<str>)> = listing
            .objects
            .iter()
            .filter_map(|o| {
                let (_, text) = self.texts.get(&o.path)?;
                Some((o.path.clone(), text.clone()))
            })
            .collect();
        let mut skipped = listing.skipped.clone();
        skipped.extend(
            self.refused
                .iter()
                .map(|(path, (_, why))| (path.clone(), why.clone())),
        );
        skipped.sort();
        self.log_skipped(skipped);
        if pages.is_empty() {
            return Err(
                "no Markdown objects (.md, .mdx) that can be served under the prefix".into(),
            );
        }
        self.pending = (!moved).then_some(listing);
        Ok(Refresh::Changed(pages))
    }

    /// The pages of the last `Changed` are served: checks compare with their listing now.
    pub fn served(&mut self) {
        if let Some(listing) = self.pending.take() {
            self.last = Some(listing);
        }
    }

    /// Logs what is newly skipped, each once, and a count when it changed.
    fn log_skipped(&mut self, skipped: Vec<(String, String)>) {
        if skipped == self.logged {
            return;
        }
        for (path, why) in skipped.iter().filter(|s| !self.logged.contains(s)) {
            tracing::warn!(path, why, source = %self.settings.location, "Markdown object skipped");
        }
        tracing::info!(
            skipped = skipped.len(),
            source = %self.settings.location,
            "Markdown objects skipped in all"
        );
        self.logged = skipped;
    }

    /// Every Markdown key under the prefix, in key order, with what the caps and the path rule
    /// refuse set aside.
    async fn list(&self) -> Result<Listing, String> {
        let S3Location { bucket, prefix } = &self.settings.location;
        let limits = self.settings.limits;
        let most_keys = limits.pages.saturating_mul(KEYS_PER_PAGE_CAP).max(1000);
        let mut listing = Listing::default();
        let mut admission = Admission::new(limits);
        let mut token: Option<String> = None;
        let mut keys = 0usize;
        loop {
            let call = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send();
            self.requests.fetch_add(1, Ordering::Relaxed);
            let page = bounded(self.settings.timeout, "ListObjectsV2", call)
                .await?
                .map_err(|e| format!("ListObjectsV2 failed: {}", DisplayErrorContext(e)))?;
            for object in page.contents() {
                keys += 1;
                let Some(key) = object.key() else { continue };
                let path = key.strip_prefix(prefix.as_str()).unwrap_or(key);
                match servable_path(path) {
                    Ok(()) => {}
                    Err("not Markdown") => continue,
                    Err(why) => {
                        listing.skipped.push((path.to_string(), why.to_string()));
                        continue;
                    }
                }
                let size = object.size().unwrap_or(0).max(0) as u64;
                if let Err(why) = admission.admit(size) {
                    listing.skipped.push((path.to_string(), why.to_string()));
                    continue;
                }
                let etag = object.e_tag().filter(|e| !e.is_empty());
                let version = match (etag, object.last_modified()) {
                    (Some(etag), _) => etag.to_string(),
                    (None, modified) => format!("{size} {modified:?}"),
                };
                listing.objects.push(Listed {
                    key: key.to_string(),
                    path: path.to_string(),
                    version,
                    etag: etag.map(str::to_string),
                    size,
                });
            }
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => {
                    if keys >= most_keys {
                        if self.last.as_ref().is_none_or(|last| !last.truncated) {
                            tracing::warn!(
                                keys,
                                source = %self.settings.location,
                                "the listing stopped after this many keys (10 times DOCS_MAX_PAGES); keys after them are not served"
                            );
                        }
                        listing.truncated = true;
                        break;
                    }
                    token = Some(next.to_string());
                }
                _ => break,
            }
        }
        Ok(listing)
    }
}

/// What a fetch needs, owned, so fetches can run side by side.
#[derive(Clone)]
struct Reader {
    client: Client,
    settings: S3Settings,
    requests: Arc<AtomicU64>,
}

impl Reader {
    /// One object's text at the version it was listed with, or why it is not served.
    async fn fetch(self, object: Listed) -> Result<Fetched, String> {
        // Never more than the listing said: the caps were checked against that size.
        let cap = self.settings.limits.page_bytes.min(object.size);
        let refused = |why: String| Fetched::Refused {
            path: object.path.clone(),
            version: object.version.clone(),
            why,
        };
        let read = async {
            let call = self
                .client
                .get_object()
                .bucket(&self.settings.location.bucket)
                .key(&object.key)
                .set_if_match(object.etag.clone())
                .send();
            self.requests.fetch_add(1, Ordering::Relaxed);
            let output = match call.await {
                Ok(output) => output,
                Err(e) => {
                    let status = e.raw_response().map(|r| r.status().as_u16());
                    return match status {
                        // Changed (412) or deleted (404) since the listing: the next check
                        // sees what is there now.
                        Some(404 | 412) => Ok(Fetched::Moved),
                        // Refused for this object alone (a key of another account, an
                        // object-level deny): skipped, like an unreadable file in a folder.
                        Some(status @ 400..=499) if status != 408 && status != 429 => {
                            Ok(refused(format!(
                                "GetObject refused it ({status}: {})",
                                e.as_service_error()
                                    .and_then(|e| aws_sdk_s3::error::ProvideErrorMetadata::code(e))
                                    .unwrap_or("no code")
                            )))
                        }
                        _ => Err(format!(
                            "GetObject {} failed: {}",
                            object.key,
                            DisplayErrorContext(e)
                        )),
                    };
                }
            };
            let mut body = output.body;
            let mut bytes = Vec::with_capacity(cap as usize);
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| {
                    format!("reading {} failed: {}", object.key, DisplayErrorContext(e))
                })?;
                if (bytes.len() + chunk.len()) as u64 > cap {
                    // Larger than listed: it changed (an endpoint without If-Match).
                    return Ok(Fetched::Moved);
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(match String::from_utf8(bytes) {
                Ok(text) => Fetched::Text {
                    path: object.path.clone(),
                    version: object.version.clone(),
                    text: text.into(),
                },
                Err(_) => refused("not UTF-8 text".into()),
            })
        };
        bounded(self.settings.timeout, "GetObject", read).await?
    }
}

/// What reading one object gave.
enum Fetched {
    Text {
        path: String,
        version: String,
        text: Arc<str>,
    },
    /// Not served while it stays at this version.
    Refused {
        path: String,
        version: String,
        why: String,
    },
    /// Changed or gone since the listing.
    Moved,
}

/// `call` within `DOCS_S3_TIMEOUT` (the SDK's own timeouts do not cover reading a body).
async fn bounded<T>(
    timeout: Duration,
    what: &str,
    call: impl std::future::Future<Output = T>,
) -> Result<T, String> {
    tokio::time::timeout(timeout, call).await.map_err(|_| {
        format!(
            "{what} took longer than DOCS_S3_TIMEOUT ({} ms)",
            timeout.as_millis()
        )
    })
}
