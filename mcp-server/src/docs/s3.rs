//! Reading the documentation from S3 (`DOCS_DIR=s3://bucket/prefix/`).
//!
//! One `ListObjectsV2` listing (paged) of the prefix says what is there; an object is fetched
//! only when its ETag differs from the one its text was fetched at, so a check when nothing
//! changed costs one request per thousand keys and no download. The keys below the prefix are
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
    etag: String,
    size: u64,
}

/// What one listing found.
#[derive(Debug, Default, PartialEq, Eq)]
struct Listing {
    objects: Vec<Listed>,
    /// `(path, why)` of Markdown keys not served.
    skipped: Vec<(String, &'static str)>,
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
    /// Texts by page path, with the ETag each was fetched at.
    texts: HashMap<String, (String, Arc<str>)>,
    /// The last listing whose pages were all read.
    last: Option<Listing>,
    /// Objects refused at the last change (caps, keys, encoding).
    skipped: usize,
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
            last: None,
            skipped: 0,
            requests: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The S3 requests made so far.
    pub fn requests(&self) -> Arc<AtomicU64> {
        self.requests.clone()
    }

    /// Objects refused at the last change.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Bytes of the texts held.
    pub fn bytes(&self) -> u64 {
        self.texts.values().map(|(_, text)| text.len() as u64).sum()
    }

    /// Lists the prefix and reads what changed. An error (S3 unreachable, a call over the
    /// timeout, nothing to serve) changes nothing: the next check starts over from the last
    /// listing fully read.
    pub async fn refresh(&mut self) -> Result<Refresh, String> {
        let listing = self.list().await?;
        if self.last.as_ref() == Some(&listing) {
            return Ok(Refresh::Unchanged);
        }
        let stale: Vec<Listed> = listing
            .objects
            .iter()
            .filter(|o| {
                self.texts
                    .get(&o.path)
                    .is_none_or(|(etag, _)| *etag != o.etag)
            })
            .cloned()
            .collect();
        let reader = Reader {
            client: self.client.clone(),
            settings: self.settings.clone(),
            requests: self.requests.clone(),
        };
        let fetched: Vec<Result<Fetched, String>> = futures::stream::iter(stale)
            .map(move |object| reader.clone().fetch(object))
            .buffer_unordered(FETCHES_AT_ONCE)
            .collect()
            .await;
        let mut skipped = listing.skipped.clone();
        for result in fetched {
            match result? {
                Fetched::Text { path, etag, text } => {
                    self.texts.insert(path, (etag, text));
                }
                Fetched::Refused { path, why } => {
                    self.texts.remove(&path);
                    skipped.push((path, why));
                }
            }
        }
        self.texts
            .retain(|path, _| listing.objects.iter().any(|o| o.path == *path));
        let pages: Vec<(String, Arc<str>)> = listing
            .objects
            .iter()
            .filter_map(|o| {
                let (_, text) = self.texts.get(&o.path)?;
                Some((o.path.clone(), text.clone()))
            })
            .collect();
        skipped.sort();
        for (path, why) in &skipped {
            tracing::warn!(path, why, source = %self.settings.location, "Markdown object skipped");
        }
        if pages.is_empty() {
            return Err(
                "no Markdown objects (.md, .mdx) that can be served under the prefix".into(),
            );
        }
        self.skipped = skipped.len();
        self.last = Some(listing);
        Ok(Refresh::Changed(pages))
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
                        listing.skipped.push((path.to_string(), why));
                        continue;
                    }
                }
                let size = object.size().unwrap_or(0).max(0) as u64;
                if let Err(why) = admission.admit(size) {
                    listing.skipped.push((path.to_string(), why));
                    continue;
                }
                let etag = object
                    .e_tag()
                    .map(|e| e.trim_matches('"').to_string())
                    .or_else(|| object.last_modified().map(|t| t.to_string()))
                    .unwrap_or_default();
                listing.objects.push(Listed {
                    key: key.to_string(),
                    path: path.to_string(),
                    etag,
                    size,
                });
            }
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => {
                    if keys >= most_keys {
                        tracing::warn!(
                            keys,
                            source = %self.settings.location,
                            "the listing stopped after this many keys (10 times DOCS_MAX_PAGES); keys after them are not served"
                        );
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
    /// One object's text, or why it is not served.
    async fn fetch(self, object: Listed) -> Result<Fetched, String> {
        let cap = self.settings.limits.page_bytes;
        let refused = |why| Fetched::Refused {
            path: object.path.clone(),
            why,
        };
        let read = async {
            let call = self
                .client
                .get_object()
                .bucket(&self.settings.location.bucket)
                .key(&object.key)
                .send();
            self.requests.fetch_add(1, Ordering::Relaxed);
            let output = match call.await {
                Ok(output) => output,
                // Deleted since the listing: the next listing will not have it.
                Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                    return Ok(refused("deleted while it was being read"));
                }
                Err(e) => {
                    return Err(format!(
                        "GetObject {} failed: {}",
                        object.key,
                        DisplayErrorContext(e)
                    ));
                }
            };
            if output.content_length().unwrap_or(0).max(0) as u64 > cap {
                return Ok(refused("larger than DOCS_MAX_PAGE_BYTES"));
            }
            let etag = output
                .e_tag()
                .map(|e| e.trim_matches('"').to_string())
                .unwrap_or_else(|| object.etag.clone());
            let mut body = output.body;
            let mut bytes = Vec::with_capacity(object.size.min(cap) as usize);
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| {
                    format!("reading {} failed: {}", object.key, DisplayErrorContext(e))
                })?;
                if (bytes.len() + chunk.len()) as u64 > cap {
                    return Ok(refused("larger than DOCS_MAX_PAGE_BYTES"));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(match String::from_utf8(bytes) {
                Ok(text) => Fetched::Text {
                    path: object.path.clone(),
                    etag,
                    text: text.into(),
                },
                Err(_) => refused("not UTF-8 text"),
            })
        };
        bounded(self.settings.timeout, "GetObject", read).await?
    }
}

/// What reading one object gave.
enum Fetched {
    Text {
        path: String,
        etag: String,
        text: Arc<str>,
    },
    Refused {
        path: String,
        why: &'static str,
    },
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
