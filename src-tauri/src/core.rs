//! The command bodies, free of Tauri: each takes the shell's state and plain values and calls the
//! core crates. The `commands` module only registers them with Tauri; tests and the bench call
//! them directly.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use cardbench_protocol::ReportFieldCatalogue;
use cardbench_store::cards::{self, CardStatus, SortColumn, WorklistCursor, WorklistFilter};
use cardbench_store::inbox::{self, InboxFilter, Outcome};
use cardbench_store::outbox::{self, OutboxFilter};
use cardbench_store::{Store, link_status, shipments};
use cardbench_workflow::{ParcelRequest, ReadoutInput, Workflow};

use crate::dto::*;
use crate::error::AppError;
use crate::settings;
use cardbench_runtime::config::Config;

/// What the shell holds for the life of the window.
pub struct Core {
    pub workflow: Workflow,
    pub data_dir: PathBuf,
    pub log_file: PathBuf,
    /// The shared config file (`CARDBENCH_CONFIG` or the platform config dir).
    pub config_path: PathBuf,
    /// The config in effect: the file, then environment overrides.
    config: RwLock<Config>,
    pub daemon: bool,
    pub started: Instant,
}

type Result<T> = std::result::Result<T, AppError>;

fn day_start(day: &str) -> Result<String> {
    cardbench_store::time::day_start(day).ok_or_else(|| AppError::Invalid(format!("{day}: a date is written YYYY-MM-DD")))
}

fn day_after(day: &str) -> Result<String> {
    cardbench_store::time::day_after(day).ok_or_else(|| AppError::Invalid(format!("{day}: a date is written YYYY-MM-DD")))
}

fn blank_to_none(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Messages a queue export reads at a time.
const EXPORT_PAGE: u32 = 1000;

fn inbox_filter(q: QueueQuery) -> Result<InboxFilter> {
    Ok(InboxFilter {
        subject: blank_to_none(q.subject),
        outcome: q.outcome.map(Outcome::from),
        card_id: blank_to_none(q.card_id),
        shipment_id: blank_to_none(q.shipment_id),
        message_id: None,
        since: blank_to_none(q.since).map(|d| day_start(&d)).transpose()?,
        until: blank_to_none(q.until).map(|d| day_after(&d)).transpose()?,
        before_id: q.before_id,
        limit: Some(q.limit.unwrap_or(200).min(EXPORT_PAGE)),
    })
}

fn outbox_filter(q: QueueQuery) -> Result<OutboxFilter> {
    Ok(OutboxFilter {
        subject: blank_to_none(q.subject),
        sent: q.sent,
        card_id: blank_to_none(q.card_id),
        shipment_id: blank_to_none(q.shipment_id),
        destination: None,
        since: blank_to_none(q.since).map(|d| day_start(&d)).transpose()?,
        until: blank_to_none(q.until).map(|d| day_after(&d)).transpose()?,
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

impl Core {
    pub fn new(store: Arc<Store>, data_dir: PathBuf, log_file: PathBuf, daemon: bool, config_path: PathBuf) -> Result<Core> {
        let config = Config::load(&config_path).map_err(|e| AppError::Settings(e.to_string()))?;
        let report_settings = config.report_settings().map_err(|e| AppError::Settings(e.to_string()))?;
        Ok(Core {
            workflow: Workflow::new(store).with_report_settings(report_settings),
            data_dir,
            log_file,
            config_path,
            config: RwLock::new(config),
            daemon,
            started: Instant::now(),
        })
    }

    /// Counts start-up from `at` (the process start) rather than from now.
    pub fn started_at(mut self, at: Instant) -> Core {
        self.started = at;
        self
    }

    pub fn store(&self) -> &Arc<Store> {
        self.workflow.store()
    }

    /// The config in effect (file and environment), with the app's data directory.
    pub fn config(&self) -> Config {
        let mut config = self.config.read().unwrap_or_else(|p| p.into_inner()).clone();
        config.data_dir = Some(self.data_dir.clone());
        config
    }

    /// The settings screen: the file as written (an environment override is not the operator's
    /// to save into it).
    pub fn settings(&self) -> Result<Settings> {
        let file = Config::load_file(&self.config_path).map_err(|e| AppError::Settings(e.to_string()))?;
        Ok(settings::view(&file))
    }

    fn operator(&self) -> String {
        self.config.read().unwrap_or_else(|p| p.into_inner()).operator.clone().unwrap_or_default()
    }

    fn mask(&self) -> bool {
        self.config.read().unwrap_or_else(|p| p.into_inner()).workstation.mask_holder
    }

    pub fn app_info(&self) -> AppInfo {
        AppInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            data_dir: self.data_dir.display().to_string(),
            log_file: self.log_file.display().to_string(),
            database: self.store().path().display().to_string(),
            config_file: self.config_path.display().to_string(),
            daemon: self.daemon,
            started_ms: self.started.elapsed().as_secs_f64() * 1000.0,
        }
    }

    // ---- worklist ---------------------------------------------------------------------------

    pub fn worklist(&self, q: WorklistQuery) -> Result<WorklistPage> {
        let filter = WorklistFilter {
            statuses: q.statuses.into_iter().map(CardStatus::from).collect(),
            organisation_id: blank_to_none(q.organisation_id),
            shipment_id: blank_to_none(q.shipment_id),
            article_id: blank_to_none(q.article_id),
            search: blank_to_none(q.search),
            search_holder: cardbench_workflow::cardholder::search_matches_holder(self.mask()),
            received_from: blank_to_none(q.received_from).map(|d| day_start(&d)).transpose()?,
            received_to: blank_to_none(q.received_to).map(|d| day_after(&d)).transpose()?,
            sort: q.sort.map(SortColumn::from).unwrap_or_default(),
            descending: q.descending,
            after: q.after.map(|c| WorklistCursor { received_at: c.received_at, card_id: c.card_id, key: c.key }),
            limit: q.limit,
        };
        let mask = self.mask();
        cardbench_workflow::cardholder::check_sort(filter.sort, mask).map_err(AppError::Invalid)?;
        let started = Instant::now();
        let page = self.store().read(|conn| cards::worklist(conn, &filter))?;
        let query_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(WorklistPage {
            rows: page.rows.into_iter().map(|r| WorklistItem::from_row(r, mask)).collect(),
            next: page.next.map(|c| Cursor { received_at: c.received_at, card_id: c.card_id, key: c.key }),
            query_ms,
        })
    }

    // ---- production -------------------------------------------------------------------------

    pub fn card(&self, card_id: &str) -> Result<CardView> {
        let d = self.workflow.card_detail(card_id.trim())?;
        let mask = self.mask();
        let req = &d.card.request;
        let mut photo = None;
        let mut elements = Vec::new();
        for (name, value) in &req.card.card_elements {
            let upper = name.to_ascii_uppercase();
            if photo.is_none()
                && (upper.contains("PHOTO") || upper.contains("PORTRAIT"))
                && let Some(url) = photo_url(value)
            {
                photo = Some(url);
                continue;
            }
            elements.push(NameValue { name: name.clone(), value: value.clone() });
        }
        let a = &req.address;
        let address = [
            a.recipient.clone(),
            a.company_name.clone(),
            Some(a.address_one.clone()),
            a.address_two.clone(),
            Some(format!("{} {}", a.postal_code, a.city)),
            Some(a.country_code.clone()),
        ]
        .into_iter()
        .flatten()
        .filter(|l| !l.trim().is_empty())
        .collect();
        let may_produce =
            matches!(d.card.status, CardStatus::Received | CardStatus::ReadoutsCaptured | CardStatus::ReportError);
        Ok(CardView {
            summary: WorklistItem::from_card(&d.card, mask),
            elements,
            photo,
            address,
            accessories: req
                .accessories
                .iter()
                .map(|x| AccessoryLine { article_id: x.article_id.clone(), accessory_id: x.accessory_id.clone(), quantity: x.quantity })
                .collect(),
            expected: d
                .expected
                .into_iter()
                .map(|e| ExpectedFieldView {
                    field: e.field,
                    known_format: e.known_format,
                    value: e.value,
                    msb_first: e.msb_first,
                    lsb_first: e.lsb_first,
                    source: e.source,
                    secret: e.secret,
                })
                .collect(),
            timeline: d.timeline.into_iter().map(|t| TimelineItem { at: t.at, what: t.what, detail: t.detail }).collect(),
            next_step: d.next_step,
            last_error_code: d.card.last_error_code.clone(),
            last_error_details: d.card.last_error_details.clone(),
            spoil_count: d.card.spoil_count,
            parcel_id: d.card.parcel_id,
            may_produce,
            may_refuse: cardbench_workflow::refusal::why_not_refusable(d.card.status).is_none(),
        })
    }

    pub fn check_readout(&self, field: &str, value: &str) -> ReadoutCheck {
        check_readout_with(&self.workflow.report_settings().catalogue, field, value)
    }

    /// The next card to produce: the oldest received, captured or refused card after `after`.
    pub fn next_card(&self, after: Option<Cursor>) -> Result<Option<WorklistItem>> {
        let page = self.worklist(WorklistQuery {
            statuses: vec![Status::Received, Status::ReadoutsCaptured, Status::ReportError],
            after,
            limit: Some(1),
            ..WorklistQuery::default()
        })?;
        Ok(page.rows.into_iter().next())
    }

    /// What a barcode scan means: a card, a shipment, or a readout of the card in hand (the core
    /// decides; the webview acts on the answer).
    pub fn interpret_scan(&self, raw: &str, card_in_hand: Option<&str>) -> Result<ScanMeaningView> {
        let hand = card_in_hand.map(str::trim).filter(|c| !c.is_empty());
        let catalogue = &self.workflow.report_settings().catalogue;
        let meaning = self.store().read(|conn| cardbench_devices::interpret_scan_with(conn, catalogue, raw, hand))?;
        Ok(meaning.into())
    }

    pub fn save_readouts(&self, card_id: &str, values: Vec<ReadoutValue>, source: &str) -> Result<Status> {
        let values: Vec<ReadoutInput> = values.into_iter().map(|v| ReadoutInput { field: v.field, value: v.value }).collect();
        Ok(self.workflow.save_readouts(&self.operator(), card_id, &values, source)?.into())
    }

    pub fn produce(&self, card_id: &str, values: Vec<ReadoutValue>, source: &str) -> Result<Produced> {
        let values: Vec<ReadoutInput> = values.into_iter().map(|v| ReadoutInput { field: v.field, value: v.value }).collect();
        let r = self.workflow.produce(&self.operator(), card_id, &values, source)?;
        tracing::info!(card_id = %r.card_id, message_id = %r.message_id, "card produced");
        Ok(Produced { card_id: r.card_id, message_id: r.message_id })
    }

    pub fn spoil(&self, card_id: &str, reason: &str) -> Result<()> {
        if reason.trim().is_empty() {
            return Err(AppError::Invalid("say why the card is spoiled".into()));
        }
        self.workflow.spoil(&self.operator(), card_id, reason.trim())?;
        tracing::info!(card_id, "card spoiled");
        Ok(())
    }

    /// Refuses the card's request with `code` (a partner-side refusal code) and `details`: ERROR
    /// queued for NGOC, the card refused. The webview asks for confirmation first: irreversible.
    pub fn refuse(&self, card_id: &str, code: &str, details: &str) -> Result<RefusedView> {
        let code = cardbench_protocol::ErrorCode::parse(code.trim());
        let r = self.workflow.refuse(&self.operator(), card_id, &code, details)?;
        tracing::info!(card_id = %r.card_id, message_id = %r.message_id, code = %r.error_code, "request refused");
        Ok(RefusedView { card_id: r.card_id, message_id: r.message_id, error_code: r.error_code.to_string() })
    }

    /// Applies a chip read to `card_id` (else the next card of the production sequence): the
    /// fields a chip gives are stored and CARD_PRODUCED is queued once none is missing.
    pub fn apply_chip(&self, card_id: Option<&str>, chip: ChipView) -> Result<ChipApplied> {
        let chip = cardbench_devices::ChipRead { reader: chip.reader, uid: chip.uid, atr: chip.atr };
        let outcome = cardbench_devices::reader::apply_chip(&self.workflow, &self.operator(), card_id, &chip)?;
        Ok(match outcome {
            cardbench_workflow::ApplyOutcome::Produced(p) => ChipApplied { card_id: p.card_id, produced: true, missing: Vec::new() },
            cardbench_workflow::ApplyOutcome::Saved { card_id, missing, .. } => ChipApplied { card_id, produced: false, missing },
        })
    }

    // ---- shipping ---------------------------------------------------------------------------

    pub fn shipments(&self, open_only: bool) -> Result<Vec<ShipmentItem>> {
        let list = self.store().read(|conn| {
            shipments::list(conn, &shipments::ShipmentFilter { organisation_id: None, open_only, limit: Some(500) })
        })?;
        Ok(list
            .into_iter()
            .map(|s| ShipmentItem {
                shipment_id: s.shipment_id,
                organisation_id: s.organisation_id,
                first_received_at: s.first_received_at,
                cards: s.cards,
                ready: s.ready,
                awaiting_report: s.awaiting_report,
                shipped: s.shipped,
                parcels: s.parcels,
            })
            .collect())
    }

    pub fn shipment(&self, shipment_id: &str) -> Result<ShipmentView> {
        let d = self.workflow.shipment_detail(shipment_id.trim())?;
        let mask = self.mask();
        Ok(ShipmentView {
            shipment_id: d.shipment.shipment_id,
            organisation_id: d.shipment.organisation_id,
            first_received_at: d.shipment.first_received_at,
            cards: d.cards.iter().map(|c| WorklistItem::from_card(c, mask)).collect(),
            accessories: d
                .accessories
                .into_iter()
                .map(|a| AccessoryBalanceLine {
                    article_id: a.article_id,
                    accessory_id: a.accessory_id,
                    requested: a.requested,
                    shipped: a.shipped,
                })
                .collect(),
            parcels: d.parcels.into_iter().map(ParcelView::from).collect(),
            gate: GateView {
                blocked: !d.gate.awaiting_report.is_empty() || !d.gate.report_error.is_empty(),
                ready: d.gate.ready,
                awaiting_report: d.gate.awaiting_report,
                report_error: d.gate.report_error,
                not_produced: d.gate.not_produced,
                shipped: d.gate.shipped,
                refused: d.gate.refused,
                notes: d
                    .gate
                    .notes
                    .into_iter()
                    .map(|n| GateNoteView {
                        card_id: n.card_id,
                        kind: serde_json::to_value(n.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
                        text: n.text,
                    })
                    .collect(),
                summary: d.gate.summary,
                state: d.gate.state.into(),
            },
        })
    }

    /// The workflow with the settings' required parcel details as saved now (a settings save
    /// takes effect at the next parcel).
    fn ship_workflow(&self) -> Workflow {
        let rules = self.config.read().unwrap_or_else(|p| p.into_inner()).workstation.ship_rules();
        self.workflow.clone().with_ship_rules(rules)
    }

    /// What the settings require of a parcel that this carrier and tracking id leave blank, in
    /// words (the core's rule, as `ship` applies it): empty when the parcel may go.
    pub fn parcel_details_check(&self, carrier: Option<&str>, tracking_id: Option<&str>) -> Vec<String> {
        self.ship_workflow().ship_rules().missing(carrier, tracking_id).iter().map(ToString::to_string).collect()
    }

    /// Checks one scan against the parcel being composed; refuses on the spot with the reason.
    pub fn scan_into_parcel(&self, shipment_id: &str, card_id: &str, already: &[String]) -> Result<ScanVerdict> {
        let card_id = card_id.trim().to_owned();
        if already.iter().any(|c| c == &card_id) {
            return Ok(ScanVerdict { reason: Some(format!("card {card_id} is already in this parcel")), card_id, accepted: false });
        }
        let problem = self.workflow.check_parcel_card(shipment_id, &card_id)?;
        Ok(ScanVerdict { accepted: problem.is_none(), reason: problem.map(|p| p.to_string()), card_id })
    }

    pub fn ship(&self, draft: ParcelDraft) -> Result<ParcelView> {
        let request = ParcelRequest {
            shipment_id: draft.shipment_id,
            cards: draft.cards,
            accessories: draft
                .accessories
                .into_iter()
                .filter(|a| a.quantity > 0)
                .map(|a| cardbench_protocol::Accessory { article_id: a.article_id, accessory_id: a.accessory_id, quantity: a.quantity })
                .collect(),
            carrier: blank_to_none(draft.carrier),
            tracking_id: blank_to_none(draft.tracking_id),
        };
        let parcel = self.ship_workflow().ship(&self.operator(), &request)?;
        tracing::info!(parcel_id = parcel.id, shipment_id = %parcel.shipment_id, "parcel shipped");
        Ok(parcel.into())
    }

    // ---- queues -----------------------------------------------------------------------------

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
                let last_error: Option<String> = conn
                    .query_row(
                        "SELECT last_error FROM outbox WHERE sent_at IS NULL AND last_error IS NOT NULL ORDER BY id DESC LIMIT 1",
                        [],
                        |r| r.get(0),
                    )
                    .ok();
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

    // ---- dashboard --------------------------------------------------------------------------

    pub fn dashboard(&self) -> Result<Dashboard> {
        self.store()
            .read(|conn| {
                let counts = cards::count_by_status(conn)?;
                let total_cards = counts.iter().map(|(_, n)| n).sum();
                let by_status = CardStatus::ALL
                    .iter()
                    .map(|s| StatusCount {
                        status: (*s).into(),
                        count: counts.iter().find(|(c, _)| c == s).map_or(0, |(_, n)| *n),
                    })
                    .collect();
                let mut stmt = conn.prepare_cached(
                    "SELECT updated_at, status, card_id, COALESCE(last_error_code, '') || ': ' || COALESCE(last_error_details, '')
                     FROM cards WHERE status IN ('report_error', 'ship_error') ORDER BY updated_at DESC LIMIT 8",
                )?;
                let mut recent_errors: Vec<ErrorLine> = stmt
                    .query_map([], |r| Ok(ErrorLine { at: r.get(0)?, what: r.get(1)?, card_id: r.get(2)?, detail: r.get(3)? }))?
                    .collect::<std::result::Result<_, _>>()?;
                let rejected =
                    inbox::list(conn, &InboxFilter { outcome: Some(Outcome::Rejected), limit: Some(8), ..InboxFilter::default() })?;
                recent_errors.extend(rejected.into_iter().map(|r| ErrorLine {
                    at: r.received_at,
                    what: "message rejected".into(),
                    card_id: r.card_id,
                    detail: r.reason.unwrap_or_default(),
                }));
                recent_errors.sort_by(|a, b| b.at.cmp(&a.at));
                recent_errors.truncate(10);
                let rejected_messages = inbox::count_by_outcome(conn)?
                    .into_iter()
                    .find(|(o, _)| *o == Outcome::Rejected)
                    .map_or(0, |(_, n)| n);
                let outbox_depth = outbox::pending_count(conn)?;
                Ok::<_, cardbench_store::StoreError>(Dashboard {
                    total_cards,
                    by_status,
                    recent_errors,
                    rejected_messages,
                    outbox_depth,
                })
            })
            .map_err(AppError::from)
    }

    /// Cards produced, REPORT_OK and errors per hour of the shift or the week under way, its
    /// bounds from the configured shifts (`[documents.shift]`, as the shift report splits time).
    pub fn production_chart(&self, period: ChartPeriod) -> Result<ProductionChart> {
        use cardbench_documents::shift;
        let config = self.config().documents.shift;
        let period = match period {
            ChartPeriod::Shift => shift::Period::Shift,
            ChartPeriod::Week => shift::Period::Week,
        };
        let bounds = shift::period_bounds(&config, period, chrono::Utc::now())?;
        let hours = self.store().read(|conn| shift::hourly(conn, bounds.from, bounds.to, &config))?;
        Ok(ProductionChart {
            name: bounds.name,
            from: cardbench_store::time::format(bounds.from),
            to: cardbench_store::time::format(bounds.to),
            utc_offset_minutes: config.utc_offset_minutes,
            hours: hours
                .into_iter()
                .map(|h| HourFigures {
                    hour: cardbench_store::time::format(h.hour),
                    produced: h.produced,
                    report_ok: h.report_ok,
                    errors: h.errors,
                })
                .collect(),
        })
    }

    // ---- documents ---------------------------------------------------------------------------

    /// Where the app writes documents: `<data dir>/documents/`. Kept after printing, for reprints.
    pub fn documents_dir(&self) -> PathBuf {
        self.data_dir.join("documents")
    }

    /// The packing slip of one parcel as PDF, and — with `print` — sent to the configured CUPS
    /// queue. The file is kept either way.
    pub fn parcel_slip(&self, parcel_id: i64, print: bool) -> Result<DocumentsWritten> {
        let config = self.config().documents;
        let out = self.documents_dir().join("slips");
        cardbench_store::private_files::create_dir_all(&out).map_err(|e| AppError::Io(format!("cannot create {}: {e}", out.display())))?;
        let files = cardbench_documents::slip(self.store(), &cardbench_documents::SlipTarget::Parcel(parcel_id), &config.slip, &out)?;
        let printed_to = if print {
            let printer = config
                .print
                .printer
                .ok_or_else(|| AppError::Invalid("no printer is configured: set one in Settings (the slip was saved)".into()))?;
            for file in &files {
                cardbench_documents::print::send_to_printer(&printer, file)?;
            }
            Some(printer)
        } else {
            None
        };
        tracing::info!(parcel_id, printed = printed_to.is_some(), "packing slip written");
        Ok(DocumentsWritten { files: files.iter().map(|f| f.display().to_string()).collect(), printed_to, notes: Vec::new() })
    }

    /// Manifest (PDF + CSV), billing CSVs and the shift report for the days `from_day` to
    /// `to_day` (inclusive), each step reported to `progress` as it starts.
    pub fn period_documents(&self, from_day: &str, to_day: &str, progress: &dyn Fn(Progress)) -> Result<DocumentsWritten> {
        let (from, to) = (day_start(from_day)?, day_after(to_day)?);
        if from >= to {
            return Err(AppError::Invalid(format!("{from_day} is after {to_day}")));
        }
        let config = self.config().documents;
        let out = self.documents_dir().join(format!("{}_{}", from_day.trim(), to_day.trim()));
        let step = |n: u32, steps: u32, what: &str| progress(Progress { task: "period documents".into(), step: n, steps, what: what.into() });
        let done = cardbench_documents::period_documents(self.store(), &from, &to, &config, &out, &step)?;
        let without = done.without_cost_centre();
        let notes = if without.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "Billed under {} (no cost centre set in Settings): {}",
                cardbench_documents::billing::NO_COST_CENTRE,
                without.join(", ")
            )]
        };
        Ok(DocumentsWritten { files: done.files.iter().map(|f| f.display().to_string()).collect(), printed_to: None, notes })
    }

    // ---- settings and logs ------------------------------------------------------------------

    /// The organisations the store has shipments of, for the cost-centre list in Settings.
    pub fn organisations(&self) -> Result<Vec<OrganisationSeen>> {
        let rows = self.store().read(cardbench_store::shipments::organisations)?;
        Ok(rows.into_iter().map(|(organisation_id, shipments)| OrganisationSeen { organisation_id, shipments }).collect())
    }

    /// Checks and writes the screen into the config file; the caller restarts the daemon so the
    /// connection and devices take effect.
    pub fn save_settings(&self, s: Settings) -> Result<Settings> {
        let mut file = Config::load_file(&self.config_path).map_err(|e| AppError::Settings(e.to_string()))?;
        settings::apply(&mut file, &s)?;
        // The directories this app writes to, as it runs (the config alone may not know them).
        if let Some(folder) = &file.devices.hotfolder.folder {
            let mut own = vec![("the data directory", self.data_dir.clone()), ("the documents directory", self.documents_dir())];
            own.extend(self.log_file.parent().map(|d| ("the log directory", d.to_owned())));
            cardbench_devices::hotfolder::refuse_own_directories(folder, &own).map_err(|r| AppError::Settings(format!("hot folder: {r}")))?;
        }
        file.save(&self.config_path).map_err(|e| AppError::Settings(e.to_string()))?;
        let effective = Config::load(&self.config_path).map_err(|e| AppError::Settings(e.to_string()))?;
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = effective;
        tracing::info!(file = %self.config_path.display(), "settings saved");
        Ok(settings::view(&file))
    }

    pub fn log_tail(&self, lines: usize) -> Result<LogLines> {
        let dir = self.log_file.parent().map(PathBuf::from).unwrap_or_default();
        // The rolling appender adds the date to the file name: read the newest one.
        let newest = std::fs::read_dir(&dir)
            .map_err(|e| AppError::Io(format!("cannot read {}: {e}", dir.display())))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("cardbench-app.log"))
            .max_by_key(|e| e.file_name());
        let Some(file) = newest else {
            return Ok(LogLines { file: self.log_file.display().to_string(), lines: Vec::new() });
        };
        let text = std::fs::read_to_string(file.path()).map_err(|e| AppError::Io(format!("cannot read the log: {e}")))?;
        let all: Vec<&str> = text.lines().collect();
        let from = all.len().saturating_sub(lines.clamp(1, 5000));
        Ok(LogLines { file: file.path().display().to_string(), lines: all[from..].iter().map(|l| (*l).to_owned()).collect() })
    }
}

/// A photo element as a data URL, when it is base64 of a JPEG or PNG (anything else is shown as
/// text, never fetched).
fn photo_url(value: &str) -> Option<String> {
    let v = value.trim();
    if let Some(rest) = v.strip_prefix("data:image/") {
        let ok = (rest.starts_with("jpeg;base64,") || rest.starts_with("png;base64,"))
            && rest.split_once(',').is_some_and(|(_, b)| b.chars().all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c)));
        return ok.then(|| v.to_owned());
    }
    let b64 = v.chars().all(|c| c.is_ascii_alphanumeric() || "+/=\n\r".contains(c));
    if b64 && v.starts_with("/9j/") {
        return Some(format!("data:image/jpeg;base64,{v}"));
    }
    if b64 && v.starts_with("iVBORw0KGgo") {
        return Some(format!("data:image/png;base64,{v}"));
    }
    None
}

/// [`check_readout_with`] by the built-in report fields.
pub fn check_readout(field: &str, value: &str) -> ReadoutCheck {
    check_readout_with(&ReportFieldCatalogue::built_in(), field, value)
}

/// Checks one typed or scanned readout; for a chip's value, also gives it under every other
/// known name of its kind (the translations one read fills).
pub fn check_readout_with(catalogue: &ReportFieldCatalogue, field: &str, value: &str) -> ReadoutCheck {
    match catalogue.normalise(field, value) {
        Ok(n) => {
            let translations = catalogue
                .spec(field)
                .and_then(|spec| Some((spec.kind, spec.parse(field, value).ok()?)))
                .map(|(kind, chip)| {
                    catalogue
                        .fields_of_kind(kind)
                        .filter(|(name, _)| *name != field)
                        .map(|(name, spec)| ReadoutValue { field: name.to_owned(), value: spec.render(&chip) })
                        .collect()
                })
                .unwrap_or_default();
            ReadoutCheck {
                field: field.to_owned(),
                ok: true,
                message: None,
                value: Some(n.value),
                msb_first: n.msb_first,
                lsb_first: n.lsb_first,
                translations,
            }
        }
        Err(e) => ReadoutCheck {
            field: field.to_owned(),
            ok: false,
            message: Some(if catalogue.is_known(field) { e.to_string() } else { format!("{field}: {e}") }),
            value: None,
            msb_first: None,
            lsb_first: None,
            translations: Vec::new(),
        },
    }
}
