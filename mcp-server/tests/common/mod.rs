//! What the in-process tests of the fast paths share: an app over the embedded documentation,
//! modern requests as a client sends them, and the media type of an answer. (Each test file is
//! a crate of its own and uses part of this, hence `dead_code` allowed.)
#![allow(dead_code)]

pub mod both;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method};
use http_body_util::BodyExt;
use mcp_server::app::App;
use mcp_server::config::Config;
use mcp_server::docs::{DocsServer, Library};
use mcp_server::http::mcp_endpoint;
use mcp_server::lifecycle::drain::{Drain, IdleGuess};
use serde_json::{Value, json};

/// An app over the embedded documentation with the settings `lookup` gives (defaults
/// otherwise), and its handler.
pub fn docs_app(lookup: impl Fn(&str) -> Option<String>) -> (Arc<App>, DocsServer) {
    let config = Config::from_lookup(lookup).unwrap();
    let docs = DocsServer::new(Library::load(None).unwrap());
    let drain = Drain::new(Duration::from_secs(60), IdleGuess::Off, false);
    let app = App::new(Arc::new(config), drain, docs.clone(), None).expect("app");
    (app, docs)
}

/// The `_meta` a 2026-07-28 request carries.
pub fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": { "name": "t", "version": "1" }
    })
}

/// Headers as a client sends them, repeats included.
pub type Headers = Vec<(String, String)>;

/// A well-formed modern request: its body and the headers a client sends with it.
pub fn request(method: &str, mut params: Value, id: Value) -> (Headers, Value) {
    params["_meta"] = meta();
    let mut headers = vec![
        ("host".into(), "localhost:3000".into()),
        ("content-type".into(), "application/json".into()),
        (
            "accept".into(),
            "application/json, text/event-stream".into(),
        ),
        ("mcp-protocol-version".into(), "2026-07-28".into()),
        ("mcp-method".into(), method.into()),
    ];
    let named = match method {
        "tools/call" => params["name"].as_str(),
        "resources/read" => params["uri"].as_str(),
        _ => None,
    };
    if let Some(named) = named {
        headers.push(("mcp-name".into(), named.into()));
    }
    let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
    (headers, body)
}

pub fn header_map(headers: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            http::HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

/// An answer's `Content-Type`.
pub fn media(headers: &HeaderMap) -> Option<String> {
    headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
}

pub fn headers(session: Option<&str>, version: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("host", "localhost:3000".parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    headers.insert(
        "accept",
        "application/json, text/event-stream".parse().unwrap(),
    );
    if let Some(version) = version {
        headers.insert("mcp-protocol-version", version.parse().unwrap());
    }
    if let Some(session) = session {
        headers.insert("mcp-session-id", session.parse().unwrap());
    }
    headers
}

/// A request through the whole `/mcp` handler: status, media type and body.
pub async fn through_the_endpoint(
    app: &Arc<App>,
    headers: HeaderMap,
    body: &Value,
) -> (u16, Option<String>, Bytes, HeaderMap) {
    let bytes = Bytes::from(body.to_string());
    let stream = futures::stream::iter([Ok::<_, std::convert::Infallible>(bytes)]);
    let response = mcp_endpoint::handle(app.clone(), Method::POST, headers, None, stream).await;
    let status = response.status().as_u16();
    let media = media(response.headers());
    let head = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, media, body, head)
}

/// A legacy session past its handshake, started as a client starts one.
pub async fn start_session(app: &Arc<App>, version: &str) -> String {
    let initialize = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {},
        "clientInfo": { "name": "t", "version": "1" } } });
    let (status, _, _, head) = through_the_endpoint(app, headers(None, None), &initialize).await;
    assert_eq!(status, 200);
    let session = head["mcp-session-id"].to_str().unwrap().to_string();
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let (status, ..) =
        through_the_endpoint(app, headers(Some(&session), Some(version)), &initialized).await;
    assert_eq!(status, 202);
    session
}

/// A request without a body (GET, DELETE) through the whole `/mcp` handler.
pub async fn bodiless(app: &Arc<App>, method: Method, headers: HeaderMap) -> warp::reply::Response {
    let empty = futures::stream::empty::<Result<Bytes, std::convert::Infallible>>();
    mcp_endpoint::handle(app.clone(), method, headers, None, empty).await
}

/// `DELETE` of legacy session `session`: the answer's status.
pub async fn delete(app: &Arc<App>, session: &str, version: &str) -> u16 {
    let answer = bodiless(app, Method::DELETE, headers(Some(session), Some(version))).await;
    answer.status().as_u16()
}
