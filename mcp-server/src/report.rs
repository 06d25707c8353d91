//! What an MCP handler adds to `/health`: blocks of its own beside the server's figures (the
//! documentation handler reports its pages and how the checks of their source go).

/// A handler's own `/health` blocks.
pub trait Report {
    /// `(name, value)` pairs added to `/health`; none unless a handler says otherwise.
    fn health(&self) -> Vec<(&'static str, serde_json::Value)> {
        Vec::new()
    }
}
