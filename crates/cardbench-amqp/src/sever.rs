//! A TCP stream we can cut from our side, dropping what it still holds.
//!
//! When the broker stops answering without closing (a silent network cut), the connection looks
//! open: transfers we sent sit unacknowledged in the kernel's send buffer, and closing the AMQP
//! connection only queues a Close frame behind them, which fe2o3's engine then waits for
//! forever. The sender gives up on the outcomes and sends the same rows again on a new
//! connection; if the old socket lived on, TCP would deliver its transfers once the network
//! heals: a second copy of each on a broker without duplicate detection (RabbitMQ; Service Bus
//! drops it only inside its detection window). Severing ends the stream at once: the engine's
//! pending read and write fail, the engine drops the socket, and with `SO_LINGER` 0 the kernel
//! discards the unsent bytes and sends RST instead of retransmitting them.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

#[derive(Debug, Default)]
struct State {
    severed: AtomicBool,
    /// The tasks polling the stream (read side, write side), woken to see the cut.
    wakers: Mutex<[Option<Waker>; 2]>,
}

/// Cuts the stream it was made with (see [`SeverableTcp::new`]).
#[derive(Debug, Clone)]
pub(crate) struct Sever(Arc<State>);

impl Sever {
    pub(crate) fn sever(&self) {
        self.0.severed.store(true, Ordering::SeqCst);
        let wakers = match self.0.wakers.lock() {
            Ok(mut w) => std::mem::take(&mut *w),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        for w in wakers.into_iter().flatten() {
            w.wake();
        }
    }
}

#[derive(Debug)]
pub(crate) struct SeverableTcp {
    inner: TcpStream,
    state: Arc<State>,
}

const READ: usize = 0;
const WRITE: usize = 1;

impl SeverableTcp {
    pub(crate) fn new(inner: TcpStream) -> (SeverableTcp, Sever) {
        let state = Arc::new(State::default());
        (
            SeverableTcp {
                inner,
                state: state.clone(),
            },
            Sever(state),
        )
    }

    /// Registers the caller to be woken by a sever, then fails if the stream was severed. The
    /// order matters: a sever between the two is seen by the check, one after it wakes the task.
    fn check(&self, cx: &Context<'_>, side: usize) -> io::Result<()> {
        if let Ok(mut w) = self.state.wakers.lock()
            && !w[side]
                .as_ref()
                .is_some_and(|old| old.will_wake(cx.waker()))
        {
            w[side] = Some(cx.waker().clone());
        }
        if self.state.severed.load(Ordering::SeqCst) {
            // Read when the engine drops the socket: RST, unsent bytes discarded.
            if let Err(e) = self.inner.set_zero_linger() {
                tracing::debug!(error = %e, "cannot set SO_LINGER 0 on a severed connection");
            }
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "connection severed: the broker stopped answering",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for SeverableTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.check(cx, READ) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for SeverableTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Err(e) = this.check(cx, WRITE) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.check(cx, WRITE) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.check(cx, WRITE) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_pending_read_fails_once_severed() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
        let (_server, _) = accepted.expect("accept");
        let (mut stream, sever) = SeverableTcp::new(client.expect("connect"));
        stream.write_all(b"x").await.expect("write before the cut");
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 8];
            stream.read(&mut buf).await
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        sever.sever();
        let r = tokio::time::timeout(std::time::Duration::from_secs(5), reader)
            .await
            .expect("woken")
            .expect("task");
        assert_eq!(
            r.expect_err("severed").kind(),
            io::ErrorKind::ConnectionAborted
        );
    }
}
