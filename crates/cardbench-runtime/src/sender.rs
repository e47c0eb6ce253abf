//! The outbox sender: sends unsent rows in order, marks each sent only when the queue took it.
//! Rows written while the link is down simply wait; they drain after the reconnect.
//!
//! It is NGOC's sender: it claims only the outbox rows for [`DESTINATION`]. Another outbound
//! consumer is a sender of its own over the same outbox, not a change here. A wake (the Notify,
//! the idle poll) carries nothing: each one re-reads the due rows from the store, so a lost wake
//! delays a row and never loses it.

use std::time::Duration;

use cardbench_store::outbox::{self, OutboxRow};
use cardbench_transport::{OutboundMessage, QueueSender};
use tokio::sync::watch;

use crate::error::LinkError;
use crate::link::Side;
use crate::supervise::supervise;
use crate::{RuntimeEvent, Shared, stopped};

/// The outbox rows this sender sends.
pub(crate) const DESTINATION: &str = outbox::NGOC;

/// How often an idle sender looks whether another process (e.g. `cardbench` beside the app)
/// committed: its rows cannot reach our wake. This process's own rows never wait for it: every
/// workflow write that queues rows wakes the sender ([`cardbench_workflow::Workflow::outbox_wake`]),
/// and this look does not see them.
const ELSEWHERE_POLL: Duration = Duration::from_millis(500);

/// How often a station that does not hold the sending lease looks again (another station sends;
/// if it dies, its lease runs out and this one takes over).
const STANDBY_POLL: Duration = Duration::from_secs(1);

pub(crate) async fn run(shared: Shared, shutdown: watch::Receiver<bool>) {
    let open = || shared.connector.sender(&shared.config.outbound_queue);
    let work = |link, mut shutdown: watch::Receiver<bool>| {
        let shared = shared.clone();
        async move { drain(&shared, link, &mut shutdown).await }
    };
    supervise(&shared, Side::Outbound, shutdown, open, work).await;
}

async fn drain(shared: &Shared, mut sender: Box<dyn QueueSender>, shutdown: &mut watch::Receiver<bool>) -> Option<LinkError> {
    let mut reject_attempts = 0u32;
    let mut outage = cardbench_store::health::OutageLog::default();
    loop {
        if *shutdown.borrow() {
            return None;
        }
        // One station of a floor sends at a time (cardbench_workflow::floor): the others stand by,
        // and so does this one while the lease cannot be asked for.
        let our_turn = match shared.blocking(|wf| wf.sending_turn(DESTINATION)).await {
            Ok(Ok(turn)) => {
                if outage.recovered() {
                    tracing::info!("the store answers again: sending resumes");
                }
                turn
            }
            Ok(Err(e)) => {
                if outage.should_log(e.store_failure()) {
                    tracing::error!(error = %e, "cannot take the sending lease (said once while the store fails)");
                }
                false
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot take the sending lease");
                false
            }
        };
        if !our_turn {
            tokio::select! {
                _ = tokio::time::sleep(STANDBY_POLL) => {}
                _ = stopped(shutdown) => return None,
            }
            continue;
        }
        let limit = shared.config.send_batch;
        // Before the outbox is read, so a commit made elsewhere after the read is not missed.
        let elsewhere = commits_elsewhere(shared).await;
        let rows = match shared.blocking(move |wf| wf.store().read(|c| outbox::due(c, DESTINATION, &cardbench_store::time::now(), limit))).await {
            Ok(Ok(rows)) => rows,
            Ok(Err(e)) => {
                if outage.should_log(e.failure()) {
                    tracing::error!(error = %e, "cannot read the outbox (said once while the store fails)");
                }
                Vec::new()
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot read the outbox");
                Vec::new()
            }
        };
        if rows.is_empty() {
            tokio::select! {
                _ = shared.outbox_wake.notified() => {}
                _ = committed_elsewhere(shared, elsewhere) => {}
                _ = stopped(shutdown) => return None,
            }
            continue;
        }
        let messages: Vec<OutboundMessage> = rows.iter().map(message).collect();
        let results = sender.send(&messages).await;
        let now = chrono::Utc::now();
        let mut sent = Vec::new();
        let mut failed = Vec::new();
        let mut link_error = None;
        for (row, result) in rows.iter().zip(results) {
            match result {
                Ok(()) => sent.push(row.id),
                Err(e) => {
                    if e.is_link_failure() && link_error.is_none() {
                        link_error = Some(LinkError::Transport(e.clone()));
                    }
                    failed.push((row.id, e.to_string(), e.is_link_failure()));
                }
            }
        }
        // A message the queue refused as such is retried later with growing delays, without
        // holding up the rows behind it.
        let rejected = failed.iter().any(|f| !f.2);
        reject_attempts = if rejected { reject_attempts.saturating_add(1) } else { 0 };
        let retry_at = cardbench_store::time::format(
            now + chrono::Duration::from_std(shared.config.backoff.delay(reject_attempts)).unwrap_or_default(),
        );
        let at = cardbench_store::time::format(now);
        let recorded = shared
            .blocking(move |wf| {
                wf.store().write(|tx| {
                    for id in &sent {
                        outbox::mark_sent(tx, *id, &at)?;
                    }
                    for (id, error, link_failure) in &failed {
                        // After a link failure the row is retried as soon as the link is back.
                        let next = if *link_failure { at.as_str() } else { retry_at.as_str() };
                        outbox::mark_failed(tx, *id, error, next)?;
                    }
                    outbox::pending_count(tx)
                })
            })
            .await;
        match recorded {
            Ok(Ok(pending)) => shared.publish(RuntimeEvent::OutboxDepth { pending }),
            // Sent but not marked: they go again with the same messageId, and the broker drops them.
            Ok(Err(e)) => tracing::error!(error = %e, "cannot record sent messages"),
            Err(e) => tracing::error!(error = %e, "cannot record sent messages"),
        }
        if let Some(error) = link_error {
            return Some(error);
        }
    }
}

async fn commits_elsewhere(shared: &Shared) -> Option<i64> {
    match shared.blocking(|wf| wf.store().commits_elsewhere()).await {
        Ok(Ok(version)) => version,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot look for commits of another process");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot look for commits of another process");
            None
        }
    }
}

/// Resolves once another process committed since `seen` (unknown: at the first look).
async fn committed_elsewhere(shared: &Shared, seen: Option<i64>) {
    loop {
        tokio::time::sleep(ELSEWHERE_POLL).await;
        match (seen, commits_elsewhere(shared).await) {
            (_, None) => {}
            (Some(seen), Some(now)) if seen == now => {}
            _ => return,
        }
    }
}

fn message(row: &OutboxRow) -> OutboundMessage {
    OutboundMessage {
        message_id: row.message_id.clone(),
        subject: row.subject.clone(),
        correlation_id: row.correlation_id.clone(),
        content_type: "application/json".into(),
        body: row.body.clone().into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cardbench_store::Store;
    use cardbench_store::outbox::{self, NewOutboxRow};
    use cardbench_transport::{OutboundMessage, QueueSender, TransportError, TransportErrorKind};
    use cardbench_workflow::Workflow;
    use tokio::sync::{Notify, broadcast, watch};

    use crate::error::LinkError;
    use crate::{RuntimeConfig, Shared};

    /// A queue whose connection drops under the send.
    struct Refusing;

    #[async_trait::async_trait]
    impl QueueSender for Refusing {
        async fn send(&mut self, messages: &[OutboundMessage]) -> Vec<Result<(), TransportError>> {
            messages.iter().map(|_| Err(TransportError::new(TransportErrorKind::Connection, "connection reset by peer"))).collect()
        }
    }

    #[tokio::test]
    async fn a_send_error_reaches_the_supervisor_with_its_kind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(Store::open_in(dir.path()).expect("store"));
        let queued = store
            .write(|tx| {
                outbox::insert(
                    tx,
                    &NewOutboxRow { subject: "S", correlation_id: None, body: "{}", card_id: None, shipment_id: None, created_at: "t" },
                )
            })
            .expect("queue");
        let connector = Arc::new(cardbench_transport::embedded::EmbeddedQueues::open(dir.path()).expect("queues"));
        let shared = Shared {
            workflow: Workflow::new(store.clone()),
            connector,
            config: Arc::new(RuntimeConfig::default()),
            events: broadcast::channel(16).0,
            link: Arc::new(watch::channel(crate::LinkState::default()).0),
            outbox_wake: Arc::new(Notify::new()),
            settled: Arc::new(watch::channel(0).0),
            store_health: Arc::new(watch::channel(crate::store_health::StoreHealth::default()).0),
        };
        let (_stop, mut shutdown) = watch::channel(false);
        let ended = super::drain(&shared, Box::new(Refusing), &mut shutdown).await;
        match ended {
            Some(LinkError::Transport(e)) => assert_eq!(e.kind, TransportErrorKind::Connection, "{e}"),
            other => panic!("the link error lost its kind: {other:?}"),
        }
        let row = store.read(|c| outbox::get(c, queued.id)).expect("read").expect("row");
        assert_eq!((row.sent_at, row.attempts), (None, 1), "not sent, the attempt counted");
    }
}
