//! The shipment manifest: every parcel created in [from, to) with its carrier, tracking id and
//! counts, for the carrier hand-over and the day's records. PDF and CSV carry the same rows.

use std::io::Write;

use cardbench_store::{Connection, parcels, shipments};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::layout::{Column, Flow, MARGIN_L, MARGIN_R, PAGE_W, Table};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestRow {
    pub parcel_id: i64,
    pub created_at: String,
    pub carrier: String,
    pub tracking_id: String,
    pub shipment_id: String,
    pub organisation_id: String,
    pub cards: u64,
    pub accessories: u64,
    /// awaiting_ok, shipped_ok or error: NGOC's answer so far.
    pub status: String,
}

/// Parcels created in [from, to) (RFC 3339 UTC, as stored), oldest first.
pub fn load(conn: &Connection, from: &str, to: &str) -> Result<Vec<ManifestRow>> {
    let mut rows = Vec::new();
    for p in parcels::created_between(conn, from, to)? {
        let organisation_id = shipments::get(conn, &p.shipment_id)?.map(|s| s.organisation_id).unwrap_or_default();
        rows.push(ManifestRow {
            parcel_id: p.id,
            created_at: p.created_at,
            carrier: p.carrier.unwrap_or_default(),
            tracking_id: p.tracking_id.unwrap_or_default(),
            shipment_id: p.shipment_id,
            organisation_id,
            cards: p.cards.len() as u64,
            accessories: p.accessories.iter().map(|a| u64::from(a.quantity)).sum(),
            status: p.status.as_str().to_owned(),
        });
    }
    Ok(rows)
}

pub const CSV_HEADER: [&str; 9] =
    ["PARCEL", "CREATED", "CARRIER", "TRACKINGID", "SHIPMENTID", "ORGANISATION", "CARDS", "ACCESSORIES", "STATUS"];

pub fn write_csv(rows: &[ManifestRow], out: impl Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_HEADER)?;
    for r in rows {
        // Shipment, organisation and tracking ids come from outside: never a formula.
        w.write_record(cardbench_store::spreadsheet::safe_record([
            r.parcel_id.to_string(),
            r.created_at.clone(),
            r.carrier.clone(),
            r.tracking_id.clone(),
            r.shipment_id.clone(),
            r.organisation_id.clone(),
            r.cards.to_string(),
            r.accessories.to_string(),
            r.status.clone(),
        ]))?;
    }
    w.flush().map_err(|e| crate::error::DocumentError::Csv(e.into()))?;
    Ok(())
}

pub fn render_pdf(rows: &[ManifestRow], from: &str, to: &str, sender_name: &str) -> Result<Vec<u8>> {
    let cards: u64 = rows.iter().map(|r| r.cards).sum();
    let accessories: u64 = rows.iter().map(|r| r.accessories).sum();
    let table = Table {
        title: format!("Parcels created from {from} to {to}"),
        columns: vec![
            Column::right("Parcel", 13.0),
            Column::left("Created", 31.0),
            Column::left("Carrier", 18.0),
            Column::left("Tracking ID", 28.0),
            Column::left("Shipment", 30.0),
            Column::left("Organisation", 27.0),
            Column::right("Cards", 13.0),
            Column::right("Acc.", 15.0),
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.parcel_id.to_string(),
                    cardbench_store::time::display(&r.created_at),
                    r.carrier.clone(),
                    r.tracking_id.clone(),
                    r.shipment_id.clone(),
                    r.organisation_id.clone(),
                    r.cards.to_string(),
                    r.accessories.to_string(),
                ]
            })
            .collect(),
        total: Some(vec![
            String::new(),
            format!("{} parcels", rows.len()),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            cards.to_string(),
            accessories.to_string(),
        ]),
    };
    let footer = format!("Shipment manifest {from} – {to}");
    Flow { first_top: 40.0, next_top: 30.0 }.render("Shipment manifest", &footer, &[table], |page, n, _| {
        if n == 1 {
            page.text(MARGIN_L, 22.0, 18.0, "Shipment manifest");
            page.text_right(PAGE_W - MARGIN_R, 22.0, 11.0, sender_name);
            page.hline(27.0, 0.5);
        } else {
            page.text(MARGIN_L, 15.0, 10.0, &format!("Shipment manifest {from} – {to}"));
            page.hline(18.0, 0.5);
        }
    })
}
