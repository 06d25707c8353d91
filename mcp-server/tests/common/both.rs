//! Both ways a request can be answered: by the fast path (`http::direct::answer`) and by rmcp
//! (`App::handle_mcp`, which never takes the fast path), for tests that hold the two equal.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use mcp_server::app::App;
use mcp_server::http::direct;
use serde_json::Value;

use super::{header_map, media};

/// One server state for every case, with a runtime of its own for rmcp's tasks.
pub fn shared() -> &'static (tokio::runtime::Runtime, Arc<App>) {
    static SHARED: std::sync::OnceLock<(tokio::runtime::Runtime, Arc<App>)> =
        std::sync::OnceLock::new();
    SHARED.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let app = {
            let _inside = runtime.enter();
            super::docs_app(|_| None).0
        };
        (runtime, app)
    })
}

/// Status, media type and body, as either path answered.
pub type Answer = (u16, Option<String>, Value);

pub fn fast(app: &App, headers: &[(String, String)], body: &[u8]) -> Option<Answer> {
    let headers = header_map(headers);
    let json_content = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap().trim() == "application/json");
    let response = direct::answer(app, &headers, body, json_content)?;
    let status = response.status().as_u16();
    let media = media(response.headers());
    let bytes = futures::executor::block_on(response.into_body().collect())
        .unwrap()
        .to_bytes();
    Some((status, media, serde_json::from_slice(&bytes).expect("JSON")))
}

pub async fn rmcp(app: &App, headers: &[(String, String)], body: &[u8]) -> Answer {
    let mut request = http::Request::builder().method("POST").uri("/mcp");
    *request.headers_mut().unwrap() = header_map(headers);
    let request = request
        .body(Full::new(Bytes::copy_from_slice(body)))
        .unwrap();
    let response = app.handle_mcp(request).await;
    let status = response.status().as_u16();
    let media = media(response.headers());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, media, value)
}
