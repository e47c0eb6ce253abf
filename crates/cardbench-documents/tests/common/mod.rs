//! A real store on disk filled through the store's own table functions, the way the workflow
//! fills it (same audit action names and details), with controlled timestamps so periods,
//! shifts and hours are predictable.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use cardbench_protocol::{Accessory, Address, CardRequest, ExternalProductionData};
use cardbench_store::audit::{self, NewAudit};
use cardbench_store::cards::{self, CardStatus, StatusChange};
use cardbench_store::inbox::{self, Envelope, NewInboxRow, Outcome};
use cardbench_store::outbox::{self, NewOutboxRow};
use cardbench_store::parcels::{self, NewParcel};
use cardbench_store::{Connection, Store, shipments};
use indexmap::IndexMap;

/// Names that need more than Latin-1 and more than ASCII.
pub const NAMES: [&str; 6] = ["Åsa Ölund", "Jörg Weiß", "Łukasz Żółć", "Émilie Brontë", "Zoë Æbelø", "Ärna Straße"];

pub fn request(org: &str, shipment: &str, card_id: &str, article: &str, holder: &str, ordered: &str) -> ExternalProductionData {
    let mut elements = IndexMap::new();
    elements.insert("CARDHOLDER_NAME".to_owned(), holder.to_owned());
    ExternalProductionData {
        organisation_id: org.to_owned(),
        shipment_id: shipment.to_owned(),
        ordered: chrono::DateTime::parse_from_rfc3339(ordered).expect("test timestamp").into(),
        address: Address {
            address_one: "Hauptstraße 12".into(),
            address_two: Some("Gebäude Ä, 3. OG".into()),
            postal_code: "10115".into(),
            city: "Berlin".into(),
            country_code: "DE".into(),
            recipient: Some("Sören Kühn".into()),
            recipient_phone: None,
            company_name: Some(format!("{org} Verwaltungs GmbH")),
        },
        card: CardRequest {
            article_id: article.to_owned(),
            card_id: card_id.to_owned(),
            card_elements: elements,
            expected_report_data_fields: vec!["MIFARE_UID".into()],
            expected_external_report_data_fields: vec![],
        },
        accessories: vec![],
    }
}

/// The test's store: in `dir` on SQLite, a schema of its own on PostgreSQL when the run asks for
/// it (`CARDBENCH_TEST_ENGINE=postgres`, as `scripts/test.sh` does in its second pass).
pub fn open(dir: &Path) -> Store {
    cardbench_store::testing::store_in(dir).expect("open store")
}

/// A card request as ingest records it: inbox row, shipment, card.
pub fn receive(conn: &Connection, req: &ExternalProductionData, at: &str) {
    let body = serde_json::to_vec(req).expect("json");
    let envelope = Envelope {
        message_id: None,
        subject: Some("EXTERNAL_PRODUCTION_REQUEST_SENT"),
        correlation_id: None,
        content_type: Some("application/json"),
        body: &body,
        delivery_count: 1,
    };
    let inbox_id = inbox::insert(
        conn,
        &NewInboxRow {
            envelope: &envelope,
            received_at: at,
            outcome: Outcome::Accepted,
            reason: None,
            card_id: Some(&req.card.card_id),
            shipment_id: Some(&req.shipment_id),
        },
    )
    .expect("inbox");
    shipments::ensure(conn, &req.shipment_id, &req.organisation_id, at).expect("shipment");
    cards::insert(conn, req, inbox_id, at).expect("card");
}

pub fn produce(conn: &Connection, operator: &str, card_id: &str, shipment: &str, at: &str) -> String {
    let queued = outbox::insert(
        conn,
        &NewOutboxRow {
            subject: "EXTERNAL_PRODUCTION_CARD_PRODUCED",
            correlation_id: None,
            body: "{}",
            card_id: Some(card_id),
            shipment_id: Some(shipment),
            created_at: at,
        },
    )
    .expect("outbox");
    cards::set_status(
        conn,
        card_id,
        CardStatus::Produced,
        &StatusChange {
            produced_message_id: Some(Some(&queued.message_id)),
            produced_at: Some(Some(at)),
            report_ok_at: Some(None),
            last_error: Some(None),
            ..Default::default()
        },
        at,
    )
    .expect("status");
    audit::record(
        conn,
        &NewAudit {
            at,
            operator,
            action: "produced",
            card_id: Some(card_id),
            shipment_id: Some(shipment),
            details: Some(&serde_json::json!({ "messageId": queued.message_id, "source": "typed" })),
        },
    )
    .expect("audit");
    queued.message_id
}

pub fn spoil(conn: &Connection, operator: &str, card_id: &str, shipment: &str, at: &str) {
    cards::set_status(
        conn,
        card_id,
        CardStatus::Received,
        &StatusChange {
            produced_message_id: Some(None),
            produced_at: Some(None),
            report_ok_at: Some(None),
            parcel_id: Some(None),
            last_error: Some(None),
            spoiled: true,
            ..Default::default()
        },
        at,
    )
    .expect("spoil");
    audit::record(
        conn,
        &NewAudit {
            at,
            operator,
            action: "spoiled",
            card_id: Some(card_id),
            shipment_id: Some(shipment),
            details: Some(&serde_json::json!({ "reason": "misprint" })),
        },
    )
    .expect("audit");
}

fn inbound(conn: &Connection, subject: &str, card_id: Option<&str>, shipment: Option<&str>, at: &str) {
    let envelope = Envelope {
        message_id: None,
        subject: Some(subject),
        correlation_id: None,
        content_type: Some("application/json"),
        body: b"{}",
        delivery_count: 1,
    };
    inbox::insert(
        conn,
        &NewInboxRow { envelope: &envelope, received_at: at, outcome: Outcome::Accepted, reason: None, card_id, shipment_id: shipment },
    )
    .expect("inbox");
}

pub fn report_ok(conn: &Connection, card_id: &str, shipment: &str, at: &str) {
    inbound(conn, "EXTERNAL_PRODUCTION_REPORT_OK", Some(card_id), Some(shipment), at);
    cards::set_status(
        conn,
        card_id,
        CardStatus::ReportOk,
        &StatusChange { report_ok_at: Some(Some(at)), last_error: Some(None), ..Default::default() },
        at,
    )
    .expect("report ok");
}

pub fn report_error(conn: &Connection, card_id: &str, shipment: &str, at: &str) {
    inbound(conn, "EXTERNAL_PRODUCTION_ERROR", Some(card_id), Some(shipment), at);
    cards::set_status(
        conn,
        card_id,
        CardStatus::ReportError,
        &StatusChange { last_error: Some(Some(("INVALID_REPORT_DATA", "bad UID"))), ..Default::default() },
        at,
    )
    .expect("report error");
}

#[allow(clippy::too_many_arguments)]
pub fn ship(
    conn: &Connection,
    operator: &str,
    shipment: &str,
    card_ids: &[String],
    accessories: &[Accessory],
    carrier: Option<&str>,
    tracking: Option<&str>,
    at: &str,
) -> i64 {
    let queued = outbox::insert(
        conn,
        &NewOutboxRow {
            subject: "EXTERNAL_PRODUCTION_SHIPPED",
            correlation_id: None,
            body: "{}",
            card_id: None,
            shipment_id: Some(shipment),
            created_at: at,
        },
    )
    .expect("outbox");
    let parcel_id = parcels::insert(
        conn,
        &NewParcel {
            shipment_id: shipment,
            outbox_id: queued.id,
            message_id: &queued.message_id,
            carrier,
            tracking_id: tracking,
            created_at: at,
            operator,
            cards: card_ids,
            accessories,
        },
    )
    .expect("parcel");
    for c in card_ids {
        cards::set_status(conn, c, CardStatus::Shipped, &StatusChange { parcel_id: Some(Some(parcel_id)), ..Default::default() }, at)
            .expect("shipped");
    }
    audit::record(
        conn,
        &NewAudit {
            at,
            operator,
            action: "shipped",
            card_id: None,
            shipment_id: Some(shipment),
            details: Some(&serde_json::json!({
                "parcelId": parcel_id, "messageId": queued.message_id, "cards": card_ids, "accessories": accessories,
                "carrier": carrier, "trackingId": tracking,
            })),
        },
    )
    .expect("audit");
    parcel_id
}

/// `at` minutes after a base instant, as the store writes times.
pub fn t(base: &str, minutes: i64) -> String {
    let b = chrono::DateTime::parse_from_rfc3339(base).expect("base").to_utc();
    cardbench_store::time::format(b + chrono::Duration::minutes(minutes))
}

/// Runs a real tool and returns its stdout; fails the test with its stderr.
pub fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| panic!("{tool} not runnable (apt-get install poppler-utils): {e}"));
    assert!(out.status.success(), "{tool} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

pub fn pdf_pages(path: &Path) -> u32 {
    let info = run("pdfinfo", &[path.to_str().expect("path")]);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Pages: in pdfinfo output:\n{info}"))
}

pub fn pdf_text(path: &Path) -> String {
    run("pdftotext", &["-layout", path.to_str().expect("path"), "-"])
}
