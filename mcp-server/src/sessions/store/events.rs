//! Each legacy session's own SSE events, kept in a Redis stream beside its state, so that a
//! client resumes with `Last-Event-ID` on any task (the journal writes and reads them).

use super::{SharedStore, StoreError};

impl SharedStore {
    /// The key of the stream of a session's own SSE events, by the session's hash.
    pub(super) fn events_key(&self, hash: &str) -> String {
        format!("{}events:{hash}", self.options.prefix)
    }

    /// Appends one of a session's own SSE events (by the session's hash) to its stream, which
    /// keeps about the last `kept` and expires with the session; the entry's id.
    pub async fn append_event(
        &self,
        hash: &str,
        event: &[u8],
        kept: usize,
    ) -> Result<String, StoreError> {
        let key = self.events_key(hash);
        let mut pipeline = redis::pipe();
        pipeline
            .cmd("XADD")
            .arg(&key)
            .arg("MAXLEN")
            .arg("~")
            .arg(kept)
            .arg("*")
            .arg("e")
            .arg(event)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(self.ttl_seconds())
            .ignore();
        let (entry,): (String,) = self.run_pipeline(pipeline).await?;
        Ok(entry)
    }

    /// A session's own SSE events from entry `from` on, oldest first, at most `count`: each
    /// entry's id and stored event (entries without one are left out).
    pub async fn events_from(
        &self,
        hash: &str,
        from: &str,
        count: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let mut command = redis::cmd("XRANGE");
        command
            .arg(self.events_key(hash))
            .arg(from)
            .arg("+")
            .arg("COUNT")
            .arg(count);
        let entries: Vec<(String, Vec<Vec<u8>>)> = self.run(command).await?;
        Ok(entries
            .into_iter()
            .filter_map(|(id, fields)| {
                let mut fields = fields.into_iter();
                while let (Some(name), Some(value)) = (fields.next(), fields.next()) {
                    if name == b"e" {
                        return Some((id, value));
                    }
                }
                None
            })
            .collect())
    }
}
