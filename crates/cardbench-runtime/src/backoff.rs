//! Exponential backoff with jitter: the one rule lives in `cardbench_transport::backoff`, shared
//! with the HTTP senders of `cardbench-hooks`.

pub use cardbench_transport::backoff::Backoff;
