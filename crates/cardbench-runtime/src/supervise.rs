//! The reconnect loop both links share: open, work until the link fails, back off with jitter,
//! open again — reporting each phase in the link state — until shutdown.

use std::future::Future;

use cardbench_transport::TransportError;
use tokio::sync::watch;

use crate::error::LinkError;
use crate::link::{LinkPhase, Side, set};
use crate::{Shared, stopped};

/// Runs `work` on what `open` returns; `work` resolves to `None` on shutdown or `Some(error)`
/// when the link failed and must be opened again. The error is text only in the link state.
pub(crate) async fn supervise<T, O, W>(
    shared: &Shared,
    side: Side,
    mut shutdown: watch::Receiver<bool>,
    open: impl Fn() -> O,
    work: impl Fn(T, watch::Receiver<bool>) -> W,
) where
    O: Future<Output = Result<T, TransportError>>,
    W: Future<Output = Option<LinkError>>,
{
    let mut attempt = 0u32;
    loop {
        if *shutdown.borrow() {
            break;
        }
        set(shared, side, LinkPhase::Connecting, None, None).await;
        let opened = tokio::select! {
            r = open() => r,
            _ = stopped(&mut shutdown) => break,
        };
        let error = match opened {
            Ok(link) => {
                set(shared, side, LinkPhase::Up, None, None).await;
                attempt = 0;
                match work(link, shutdown.clone()).await {
                    None => break,
                    Some(error) => error,
                }
            }
            Err(e) => LinkError::Transport(e),
        };
        tracing::debug!(side = ?side, error = %error, "link down");
        let delay = shared.config.backoff.delay(attempt);
        attempt = attempt.saturating_add(1);
        set(shared, side, LinkPhase::Retrying, Some(error.to_string()), Some(delay)).await;
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stopped(&mut shutdown) => break,
        }
    }
    set(shared, side, LinkPhase::Stopped, None, None).await;
}
