//! What the in-process tests of the fast paths share: an app over the embedded documentation,
//! modern requests as a client sends them, and the media type of an answer. (Each test file is
//! a crate of its own and uses part of this, hence `dead_code` allowed.)
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use mcp_server::app::App;
use mcp_server::config::Config;
use mcp_server::docs::{DocsServer, Library};
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
