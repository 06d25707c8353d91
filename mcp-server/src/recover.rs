//! A panic in a request handler becomes an immediate JSON-RPC internal error for that request,
//! never a client left waiting for `REQUEST_TIMEOUT` (or forever, on stdio) while the rest of the
//! process carries on. The panic itself is logged at error by the hook [`crate::logging`] installs.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use rmcp::ErrorData;

/// Runs `work`; a panic inside it is answered as `-32603` naming `what`.
pub async fn unpanicked<T>(
    what: &str,
    work: impl Future<Output = Result<T, ErrorData>>,
) -> Result<T, ErrorData> {
    match AssertUnwindSafe(work).catch_unwind().await {
        Ok(result) => result,
        Err(_) => Err(panicked(what)),
    }
}

/// Runs `work` in place; a panic inside it is answered as `-32603` naming `what` (written out
/// only then).
pub fn unpanicked_now<T>(
    what: impl std::fmt::Display,
    work: impl FnOnce() -> Result<T, ErrorData>,
) -> Result<T, ErrorData> {
    std::panic::catch_unwind(AssertUnwindSafe(work))
        .unwrap_or_else(|_| Err(panicked(&what.to_string())))
}

/// Logs a panic in the handler of `what` and gives the `-32603` that answers it.
pub fn panicked(what: &str) -> ErrorData {
    tracing::error!(
        handler = what,
        "Error: a request handler panicked; answered with an internal error"
    );
    ErrorData::internal_error(
        format!("Internal error in {what}; the server logged it and is still serving"),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_is_an_internal_error_and_a_result_passes_through() {
        let error = unpanicked::<()>("tool boom", async { panic!("boom") })
            .await
            .unwrap_err();
        assert_eq!(error.code, rmcp::model::ErrorCode::INTERNAL_ERROR);
        assert!(error.message.contains("tool boom"), "{}", error.message);
        assert_eq!(unpanicked("fine", async { Ok(7) }).await.unwrap(), 7);
    }

    #[test]
    fn a_panic_in_place_is_an_internal_error_naming_the_tool() {
        let error = unpanicked_now::<()>("tool read_doc", || panic!("boom")).unwrap_err();
        assert_eq!(error.code, rmcp::model::ErrorCode::INTERNAL_ERROR);
        assert!(error.message.contains("tool read_doc"), "{}", error.message);
        assert_eq!(unpanicked_now("fine", || Ok(7)).unwrap(), 7);
    }
}
