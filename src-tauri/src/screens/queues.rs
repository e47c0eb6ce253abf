//! The queue inspector: received and sent messages, export, reveal, resend, dead letters, links.

use cardbench_store::inbox::{self, InboxFilter, Outcome};
use cardbench_store::outbox::{self, OutboxFilter};
use cardbench_store::{dashboard, link_status};
use cardbench_workflow::views::period::filter_bounds;

use crate::dto::*;
use crate::error::AppError;
use crate::station::{Result, Station, blank_to_none};

/// Messages a queue export reads at a time.
const EXPORT_PAGE: u32 = 1000;

/// The queue's date filter, by the one period rule (both days included).
fn days(q: &QueueQuery) -> Result<(Option<String>, Option<String>)> {
    filter_bounds(q.since.as_deref(), q.until.as_deref()).map_err(|e| AppError::Invalid(e.to_string()))
}

fn inbox_filter(q: QueueQuery) -> Result<InboxFilter> {
    let (since, until) = days(&q)?;
    Ok(InboxFilter {
        subject: blank_to_none(q.subject),
        outcome: q.outcome.map(Outcome::from),
        card_id: blank_to_none(q.card_id),
        shipment_id: blank_to_none(q.shipment_id),
        message_id: None,
        since,
        until,
        before_id: q.before_id,
        limit: Some(q.limit.unwrap_or(200).min(EXPORT_PAGE)),
    })
}

fn outbox_filter(q: QueueQuery) -> Result<OutboxFilter> {
    let (since, until) = days(&q)?;
    Ok(OutboxFilter {
        subject: blank_to_none(q.subject),
        sent: q.sent,
        card_id: blank_to_none(q.card_id),
        shipment_id: blank_to_none(q.shipment_id),
        destination: blank_to_none(q.destination),
        since,
        until,
        before_id: q.before_id,
        limit: Some(q.limit.unwrap_or(200).min(EXPORT_PAGE)),
    })
}

/// One line of a queue export: the envelope fields and the body as the inspector shows it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportLine<'a> {
    direction: &'a str,
    id: i64,
    message_id: Option<&'a str>,
    subject: Option<&'a str>,
    correlation_id: Option<&'a str>,
    at: &'a str,
    state: &'a str,
    reason: Option<&'a str>,
    card_id: Option<&'a str>,
    shipment_id: Option<&'a str>,
    attempts: u32,
    masked: bool,
    body: &'a str,
}

impl<'a> From<&'a QueueMessage> for ExportLine<'a> {
    fn from(m: &'a QueueMessage) -> Self {
        ExportLine {
            direction: &m.direction,
            id: m.id,
            message_id: m.message_id.as_deref(),
            subject: m.subject.as_deref(),
            correlation_id: m.correlation_id.as_deref(),
            at: &m.at,
            state: &m.state,
            reason: m.reason.as_deref(),
            card_id: m.card_id.as_deref(),
            shipment_id: m.shipment_id.as_deref(),
            attempts: m.attempts,
            masked: m.masked,
            body: &m.body,
        }
    }
}

impl Station {
    pub fn inbox(&self, q: QueueQuery) -> Result<Vec<QueueMessage>> {
        let f = inbox_filter(q)?;
        let mask = self.mask();
        let rows = self.store().read(|conn| inbox::list(conn, &f))?;
        Ok(rows.into_iter().map(|r| QueueMessage::received(r, mask)).collect())
    }

    pub fn outbox(&self, q: QueueQuery) -> Result<Vec<QueueMessage>> {
        let f = outbox_filter(q)?;
        let rows = self.store().read(|conn| outbox::list(conn, &f))?;
        let queue = self.config.read().unwrap_or_else(|p| p.into_inner()).queues.outbound.clone();
        Ok(rows.into_iter().map(|r| QueueMessage { queue: Some(queue.clone()), ..QueueMessage::from(r) }).collect())
    }

    /// Writes messages of one direction (`in` or `out`) to a JSON Lines file in the documents
    /// directory: those with `ids` when given, else every one the filter matches (not only the
    /// page on screen), newest first. One line per message: its envelope fields and its body as
    /// the inspector shows it (the same masking, whatever was revealed on screen).
    pub fn export_messages(&self, direction: &str, query: QueueQuery, ids: Option<Vec<i64>>) -> Result<QueueExported> {
        use std::io::Write as _;
        let inbound = match direction {
            "in" => true,
            "out" => false,
            other => return Err(AppError::Invalid(format!("no queue direction {other:?} (in or out)"))),
        };
        let dir = self.documents_dir().join("queue-exports");
        cardbench_store::private_files::create_dir_all(&dir).map_err(|e| AppError::Io(format!("cannot create {}: {e}", dir.display())))?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let kind = if inbound { "inbox" } else { "outbox" };
        // A file of its own for each export, even two in the same second.
        let (path, file) = (1..1000)
            .find_map(|n| {
                let name = if n == 1 { format!("{kind}_{stamp}.jsonl") } else { format!("{kind}_{stamp}-{n}.jsonl") };
                let path = dir.join(name);
                match cardbench_store::private_files::create_new_file(&path) {
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => None,
                    other => Some((path, other)),
                }
            })
            .ok_or_else(|| AppError::Io(format!("too many exports this second in {}", dir.display())))?;
        let io = |e: std::io::Error| AppError::Io(format!("cannot write {}: {e}", path.display()));
        let mut out = std::io::BufWriter::new(file.map_err(io)?);
        let mask = self.mask();
        let mut count = 0u32;
        let mut write = |messages: Vec<QueueMessage>| -> Result<()> {
            for m in &messages {
                let line = serde_json::to_string(&ExportLine::from(m)).map_err(|e| AppError::Io(e.to_string()))?;
                writeln!(out, "{line}").map_err(io)?;
                count += 1;
            }
            Ok(())
        };
        match ids {
            Some(ids) => {
                let found = self.store().read(|conn| {
                    let mut found = Vec::with_capacity(ids.len());
                    for id in &ids {
                        let m = if inbound {
                            inbox::get(conn, *id)?.map(|r| QueueMessage::received(r, mask))
                        } else {
                            outbox::get(conn, *id)?.map(QueueMessage::from)
                        };
                        found.push((*id, m));
                    }
                    Ok::<_, cardbench_store::StoreError>(found)
                })?;
                let mut messages = Vec::with_capacity(found.len());
                for (id, m) in found {
                    messages.push(m.ok_or_else(|| AppError::Invalid(format!("no {} message #{id}", if inbound { "received" } else { "sent" })))?);
                }
                write(messages)?;
            }
            None => {
                // Page by id so memory stays one page, however many messages match.
                let mut before_id = None;
                loop {
                    let page = QueueQuery { before_id, limit: Some(EXPORT_PAGE), ..query.clone() };
                    let messages = if inbound { self.inbox(page)? } else { self.outbox(page)? };
                    let full = messages.len() as u32 >= EXPORT_PAGE;
                    before_id = messages.last().map(|m| m.id);
                    write(messages)?;
                    if !full || before_id.is_none() {
                        break;
                    }
                }
            }
        }
        out.flush().map_err(io)?;
        drop(out);
        tracing::info!(count, file = %path.display(), "queue messages exported");
        Ok(QueueExported { file: path.display().to_string(), count })
    }

    /// A received message unmasked, for the operator who pressed Reveal: audited under their name.
    pub fn reveal_inbox(&self, inbox_id: i64) -> Result<QueueMessage> {
        let row = self.workflow.reveal_inbox(&self.operator(), inbox_id)?;
        tracing::info!(inbox_id, "received message revealed");
        Ok(QueueMessage::received(row, false))
    }

    pub fn resend(&self, outbox_id: i64) -> Result<()> {
        self.workflow.resend(&self.operator(), outbox_id)?;
        tracing::info!(outbox_id, "outbox message put back in line");
        Ok(())
    }

    /// The inbound queue's Service Bus / broker connection, or why there is none.
    fn dead_letter_config(&self) -> std::result::Result<cardbench_amqp::ServiceBusConfig, String> {
        match self.config().amqp() {
            Ok(Some(c)) => Ok(c),
            Ok(None) => Err("The embedded simulator is in use: there is no broker, so there is no dead-letter \
                             queue. Dead letters exist with a Service Bus or broker connection (Settings)."
                .into()),
            Err(e) => Err(format!("The connection settings are not usable: {e}")),
        }
    }

    /// A small runtime of its own for one dead-letter call: the command runs on a blocking
    /// thread, and tests call the core without any runtime.
    fn run_async<T>(&self, work: impl std::future::Future<Output = T>) -> Result<T> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| AppError::Io(format!("cannot start the async runtime: {e}")))?;
        Ok(rt.block_on(work))
    }

    /// Up to `max` dead letters of the inbound queue, left where they are (the same function as
    /// `cardbench dead-letters list`).
    pub fn dead_letters(&self, max: u32) -> Result<DeadLetterList> {
        let config = match self.dead_letter_config() {
            Ok(c) => c,
            Err(why) => return Ok(DeadLetterList { available: false, note: Some(why), peeked: false, address: None, letters: vec![] }),
        };
        let max = (max as usize).clamp(1, 500);
        let listing = self.run_async(cardbench_runtime::deadletters::list(&config, max))??;
        let note = if listing.letters.is_empty() {
            Some(format!("No dead letters in {}.", listing.address))
        } else if !listing.peeked {
            Some("This broker has no peek: listing took the dead letters and released them again.".into())
        } else {
            None
        };
        Ok(DeadLetterList {
            available: true,
            note,
            peeked: listing.peeked,
            address: Some(listing.address),
            letters: listing.letters.into_iter().map(DeadLetterItem::from).collect(),
        })
    }

    /// Records the dead letter as if just received (same checks, dedupe and answers), then
    /// removes it from the dead-letter queue (the same function as `cardbench dead-letters import`).
    pub fn import_dead_letter(&self, message_id: &str) -> Result<DeadLetterImported> {
        use cardbench_workflow::IngestOutcome;
        let config = self.dead_letter_config().map_err(AppError::Invalid)?;
        let message_id = message_id.trim();
        let outcome = self
            .run_async(cardbench_runtime::deadletters::import(&self.workflow, &config, message_id))??
            .ok_or_else(|| AppError::Invalid(format!("no dead letter {message_id} (any more)")))?;
        let (name, inbox_id, detail) = match outcome {
            IngestOutcome::Accepted { inbox_id } => ("accepted", Some(inbox_id), None),
            IngestOutcome::Duplicate { inbox_id } => ("duplicate", Some(inbox_id), None),
            IngestOutcome::Rejected { inbox_id, code, reason } => ("rejected", Some(inbox_id), Some(format!("{code}: {reason}"))),
            IngestOutcome::Ignored { inbox_id, reason } => ("ignored", Some(inbox_id), Some(reason)),
            IngestOutcome::Retry { error } => ("retry", None, Some(error)),
        };
        Ok(DeadLetterImported { message_id: message_id.to_owned(), outcome: name.into(), inbox_id, detail })
    }

    pub fn queue_overview(&self) -> Result<QueueOverview> {
        self.store()
            .read(|conn| {
                let links = link_status::all(conn)?;
                let outbox_depth = outbox::pending_count(conn)?;
                let last_error = dashboard::last_unsent_error(conn)?;
                let last_error = last_error.or_else(|| links.iter().find(|l| l.state != "up").and_then(|l| l.detail.clone()));
                Ok::<_, cardbench_store::StoreError>(QueueOverview {
                    links: links
                        .into_iter()
                        .map(|l| LinkView { link: l.link, state: l.state, detail: l.detail, since: l.since, next_retry_at: l.next_retry_at })
                        .collect(),
                    outbox_depth,
                    last_error,
                })
            })
            .map_err(AppError::from)
    }
}
