//! Request-scoped context that must reach code far from the handler (events carry the
//! request id that caused them), kept in a task-local so no signature has to thread it.

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request (or of the event) being handled on this task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Runs `fut` with `id` as the current request id.
pub async fn with_request_id<F: std::future::Future>(id: String, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}
