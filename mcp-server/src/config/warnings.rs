//! Settings that work together but probably not as the operator means them: logged at start-up
//! as warnings, never refused.

use std::time::Duration;

use super::Config;

impl Config {
    /// Warnings about values that work but probably are not what the operator wants.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.sse_keepalive >= Duration::from_secs(60) {
            warnings.push(format!(
                "SSE_KEEPALIVE_INTERVAL is {} ms: a load balancer with the default 60 s idle timeout will cut quiet streams",
                self.sse_keepalive.as_millis()
            ));
        }
        if self.legacy_session_idle_timeout <= self.request_timeout {
            warnings.push(
                "LEGACY_SESSION_IDLE_TIMEOUT is not above REQUEST_TIMEOUT: sessions that only hold a GET stream may expire".into(),
            );
        }
        if self.shutdown_timeout >= Duration::from_secs(120) {
            warnings.push(
                "SHUTDOWN_TIMEOUT is 120 s or more: ECS kills a task at most 120 s after SIGTERM"
                    .into(),
            );
        }
        if let Some(limit) = self.memory {
            let worst = crate::access::budget::worst_flood_bytes(self.caps())
                .saturating_add(self.docs_memory());
            if worst as f64 > limit.bytes as f64 * crate::access::budget::BUDGET_SHARE {
                warnings.push(format!(
                    "MAX_LEGACY_SESSIONS, MAX_SSE_CONNECTIONS, MAX_CONNECTIONS and MAX_BODY_BYTES_IN_FLIGHT allow about {} MiB when all are reached, more than 80% of the {} MiB memory limit ({}); a flood could exhaust it",
                    worst >> 20,
                    limit.bytes >> 20,
                    limit.source.label()
                ));
            }
        }
        if self.max_connections < self.max_sse_connections {
            warnings.push(format!(
                "MAX_CONNECTIONS ({}) is below MAX_SSE_CONNECTIONS ({}): connections run out before streams do",
                self.max_connections, self.max_sse_connections
            ));
        }
        if self.max_body_bytes_in_flight < self.max_request_body {
            warnings.push(format!(
                "MAX_BODY_BYTES_IN_FLIGHT ({}) is below MAX_REQUEST_BODY ({}): a body of the largest allowed size always gets 503",
                self.max_body_bytes_in_flight, self.max_request_body
            ));
        }
        if self.trusted_proxy_hops == 0 && !self.host.is_loopback() {
            warnings.push(
                "TRUSTED_PROXY_HOPS is 0 and HOST is not loopback: behind a load balancer every client shares the balancer's address and so its per-client limits; set TRUSTED_PROXY_HOPS=1 behind an ALB".into(),
            );
        }
        if !self.hosts_configured() && !self.host.is_loopback() {
            warnings.push(
                "ALLOWED_HOSTS is not set and HOST is not loopback: any Host header is accepted; set ALLOWED_HOSTS to the public host name".into(),
            );
        }
        if self.auth != super::AuthMode::None && self.mode == super::Mode::Stdio {
            warnings.push(format!(
                "AUTH={} has no effect in stdio mode: the client that started the server is its only caller",
                match self.auth {
                    super::AuthMode::OAuth => "oauth",
                    _ => "api-key",
                }
            ));
        }
        if self.auth != super::AuthMode::OAuth && !self.auth_issuer.trim().is_empty() {
            warnings.push(
                "AUTH_ISSUER is set but AUTH is not oauth: tokens are not checked; set AUTH=oauth"
                    .into(),
            );
        }
        if let Some(oauth) = &self.oauth
            && oauth.audience.starts_with("http://")
            && crate::access::oauth::secure_url(&oauth.audience).is_err()
        {
            warnings.push(
                "AUTH_AUDIENCE is a plain http URL: clients send tokens in clear to it; use the https URL of /mcp".into(),
            );
        }
        if self.auth == super::AuthMode::None && !self.api_keys.is_empty() {
            warnings.push(
                "AUTH_API_KEY_HASHES or AUTH_API_KEY_FILE is set but AUTH is none: anyone may call /mcp; set AUTH=api-key".into(),
            );
        }
        warnings
    }
}
