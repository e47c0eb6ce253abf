//! Production: the card in hand, its readouts, produce, spoil, refuse, chips and scans.

use cardbench_protocol::ReportFieldCatalogue;
use cardbench_workflow::ReadoutInput;

use crate::dto::*;
use crate::error::AppError;
use crate::station::{Result, Station};

impl Station {
    pub fn card(&self, card_id: &str) -> Result<CardView> {
        // Masked by the core's rule, as `cardbench cards show` is.
        let d = self.workflow.card_detail(card_id.trim())?.shown(self.mask());
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
        let taken = d.taken.clone().map(TakenView::from);
        let may_produce = cardbench_workflow::lifecycle::may_produce(d.card.status) && taken.is_none();
        Ok(CardView {
            summary: WorklistItem::from_card(&d.card, false),
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
            taken,
            may_refuse: cardbench_workflow::refusal::why_not_refusable(d.card.status).is_none(),
        })
    }

    pub fn check_readout(&self, field: &str, value: &str) -> ReadoutCheck {
        check_readout_with(&self.workflow.report_settings().catalogue, field, value)
    }

    /// The next card to produce after `after` ([`cardbench_workflow::lifecycle`]'s one definition).
    pub fn next_card(&self, after: Option<Cursor>) -> Result<Option<WorklistItem>> {
        let page = self.worklist(WorklistQuery {
            statuses: cardbench_workflow::lifecycle::PRODUCIBLE.map(Status::from).to_vec(),
            after,
            limit: Some(1),
            ..WorklistQuery::default()
        })?;
        Ok(page.rows.into_iter().next())
    }

    /// Takes `card_id` for this station and its operator (the card loaded on the production
    /// screen), or renews the claim; the card this window held before is released. A card held
    /// at another station is answered, not refused: the screen shows who holds it.
    pub fn take_card(&self, card_id: &str) -> Result<CardHold> {
        let card_id = card_id.trim();
        let renew_every_ms = u32::try_from(self.workflow.claim_renew_every().as_millis()).unwrap_or(u32::MAX);
        self.hand_over(Some(card_id))?;
        let (held, taken) = match self.workflow.take_card(&self.operator(), card_id) {
            Ok(claim) => (claim.is_some(), None),
            Err(cardbench_workflow::WorkflowError::TakenElsewhere { station, operator, since, .. }) => {
                (false, Some(TakenView { station, operator, since }))
            }
            Err(e) => return Err(e.into()),
        };
        if held {
            *self.in_hand.lock().unwrap_or_else(|p| p.into_inner()) = Some(card_id.to_owned());
        }
        Ok(CardHold { card_id: card_id.to_owned(), held, taken, renew_every_ms })
    }

    /// Releases the card this window holds when it is `card_id` (the operator moved on).
    pub fn release_card(&self, card_id: &str) -> Result<()> {
        let mut in_hand = self.in_hand.lock().unwrap_or_else(|p| p.into_inner());
        if in_hand.as_deref() == Some(card_id.trim()) {
            *in_hand = None;
        }
        drop(in_hand);
        Ok(self.workflow.release_card(card_id.trim())?)
    }

    /// Releases the card this window holds unless it is `keep` (the window closing: `None`).
    pub fn hand_over(&self, keep: Option<&str>) -> Result<()> {
        let previous = {
            let mut in_hand = self.in_hand.lock().unwrap_or_else(|p| p.into_inner());
            if in_hand.as_deref() == keep {
                return Ok(());
            }
            in_hand.take()
        };
        if let Some(previous) = previous {
            self.workflow.release_card(&previous)?;
        }
        Ok(())
    }

    /// Sequence mode: the next card to produce after `after` that no other station holds, taken
    /// for this station (the card this window held before is released).
    pub fn take_next_card(&self, after: Option<Cursor>) -> Result<Option<WorklistItem>> {
        let after = after.map(|c| cardbench_store::cards::WorklistCursor { received_at: c.received_at, card_id: c.card_id, key: c.key });
        let Some(mut row) = self.workflow.take_next_card(&self.operator(), after)? else {
            self.hand_over(None)?;
            return Ok(None);
        };
        self.hand_over(Some(&row.card_id))?;
        *self.in_hand.lock().unwrap_or_else(|p| p.into_inner()) = Some(row.card_id.clone());
        row.taken = None;
        Ok(Some(WorklistItem::from_row(row, self.mask())))
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
