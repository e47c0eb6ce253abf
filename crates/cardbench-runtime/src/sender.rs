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

use crate::link::Side;
use crate::supervise::supervise;
use crate::{RuntimeEvent, Shared, stopped};

/// The outbox rows this sender sends.
pub(crate) const DESTINATION: &str = outbox::NGOC;

/// How often the sender looks at the outbox when nobody wakes it: rows may be written by another
/// process (the CLI) that cannot reach our Notify.
const IDLE_POLL: Duration = Duration::from_millis(500);

pub(crate) async fn run(shared: Shared, shutdown: watch::Receiver<bool>) {
    let open = || shared.connector.sender(&shared.config.outbound_queue);
    let work = |link, mut shutdown: watch::Receiver<bool>| {
        let shared = shared.clone();
        async move { drain(&shared, link, &mut shutdown).await }
    };
    supervise(&shared, Side::Outbound, shutdown, open, work).await;
}

async fn drain(shared: &Shared, mut sender: Box<dyn QueueSender>, shutdown: &mut watch::Receiver<bool>) -> Option<String> {
    let mut reject_attempts = 0u32;
    loop {
        if *shutdown.borrow() {
            return None;
        }
        let limit = shared.config.send_batch;
        let rows = match shared.blocking(move |wf| wf.store().read(|c| outbox::due(c, DESTINATION, &cardbench_store::time::now(), limit))).await {
            Ok(Ok(rows)) => rows,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot read the outbox");
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
                _ = tokio::time::sleep(IDLE_POLL) => {}
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
                        link_error = Some(e.to_string());
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

fn message(row: &OutboxRow) -> OutboundMessage {
    OutboundMessage {
        message_id: row.message_id.clone(),
        subject: row.subject.clone(),
        correlation_id: row.correlation_id.clone(),
        content_type: "application/json".into(),
        body: row.body.clone().into_bytes(),
    }
}
