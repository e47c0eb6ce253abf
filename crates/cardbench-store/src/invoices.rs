//! `invoices` and `invoice_counter`: the invoice numbers billing takes and the invoices it issued,
//! and the read models it bills from. What is billed (a card once in its life, at its first
//! accepted REPORT_OK; accessories in parcels NGOC has not rejected) is `cardbench-documents`'
//! rule, stated there; these queries answer it.

use cardbench_protocol::Subject;
use crate::db::{Connection, params};

use crate::error::Result;

/// The counter's row in `invoice_counter`.
const COUNTER: &str = "invoice";

/// A count of billable items of one organisation, article and order date (YYYY-MM-DD, UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillableCount {
    pub organisation_id: String,
    pub article_id: String,
    pub order_date: String,
    pub quantity: u64,
}

fn counts(rows: impl Iterator<Item = crate::db::Result<(String, String, String, i64)>>) -> Result<Vec<BillableCount>> {
    let mut out = Vec::new();
    for row in rows {
        let (organisation_id, article_id, order_date, n) = row?;
        out.push(BillableCount { organisation_id, article_id, order_date, quantity: n.max(0) as u64 });
    }
    Ok(out)
}

/// Cards whose first accepted REPORT_OK arrived in [from, to), by organisation, article and the
/// date the card was ordered. A card's later acceptances (a redo) never count again.
pub fn cards_first_accepted_between(conn: &Connection, from: &str, to: &str) -> Result<Vec<BillableCount>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.organisation_id, c.article_id, substr(c.ordered_at, 1, 10), COUNT(*)
         FROM cards c
         JOIN (SELECT card_id, MIN(received_at) AS first_ok FROM inbox
               WHERE subject = ?3 AND outcome = 'accepted' AND card_id IS NOT NULL
               GROUP BY card_id) f ON f.card_id = c.card_id
         WHERE f.first_ok >= ?1 AND f.first_ok < ?2
         GROUP BY 1, 2, 3",
    )?;
    let rows = stmt.query_map(params![from, to, Subject::ReportOk.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    counts(rows)
}

/// Accessories in parcels created in [from, to) that NGOC has not rejected, by organisation,
/// article and the shipment's earliest order date (its first receipt when it has no card).
pub fn accessories_shipped_between(conn: &Connection, from: &str, to: &str) -> Result<Vec<BillableCount>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.organisation_id, pa.article_id,
                COALESCE((SELECT substr(MIN(c.ordered_at), 1, 10) FROM cards c WHERE c.shipment_id = p.shipment_id),
                         substr(s.first_received_at, 1, 10)),
                SUM(pa.quantity)
         FROM parcel_accessories pa
         JOIN parcels p ON p.id = pa.parcel_id
         JOIN shipments s ON s.shipment_id = p.shipment_id
         WHERE p.created_at >= ?1 AND p.created_at < ?2 AND p.status <> 'error'
         GROUP BY 1, 2, 3",
    )?;
    let rows = stmt.query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    counts(rows)
}

/// Takes the next invoice number from the persistent counter (1 for the first). Inside the
/// billing run's transaction: a run that fails gives its numbers back.
pub fn take_number(conn: &Connection) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO invoice_counter (name, last) VALUES (?1, 1)
         ON CONFLICT (name) DO UPDATE SET last = invoice_counter.last + 1",
    )?
    .execute([COUNTER])?;
    Ok(conn.prepare_cached("SELECT last FROM invoice_counter WHERE name = ?1")?.query_row([COUNTER], |r| r.get(0))?)
}

/// An invoice a billing run issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvoice<'a> {
    pub invoice_number: &'a str,
    pub organisation_id: &'a str,
    pub cost_centre: &'a str,
    pub period_from: &'a str,
    pub period_to: &'a str,
    pub created_at: &'a str,
    pub lines: usize,
}

/// Records an issued invoice.
pub fn issue(conn: &Connection, invoice: &NewInvoice<'_>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO invoices (invoice_number, organisation_id, cost_centre, period_from, period_to, created_at, lines)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        invoice.invoice_number,
        invoice.organisation_id,
        invoice.cost_centre,
        invoice.period_from,
        invoice.period_to,
        invoice.created_at,
        i64::try_from(invoice.lines).unwrap_or(i64::MAX)
    ])?;
    Ok(())
}
