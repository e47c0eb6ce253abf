//! Billing: for a period, one CSV per organisation in NGOC's invoice report shape
//! (COSTCENTRE, INVOICENUMBER, ARTICLENUMBER, QUANTITY, ORDERDATE).
//!
//! What is billed:
//! - a card in the period in which NGOC first accepted it (the first accepted REPORT_OK in the
//!   inbox). A card is billed once in its life: one rejected and redone, or spoiled after its
//!   REPORT_OK and made again (the bureau's loss, not the customer's), is not billed a second
//!   time, whichever periods the two acceptances fall in. (`cards.report_ok_at` cannot serve:
//!   spoiling clears it and the redo sets it again.)
//! - accessories when they left in a parcel created within the period that NGOC has not
//!   rejected.
//!
//! Lines are grouped by article and order date (the date the card request was ordered; for
//! accessories the shipment's earliest order). Each organisation gets one invoice number per run
//! from the persistent counter in `invoice_counter`; the numbers, the issued invoices and the
//! files are one transaction, so a failed run leaves no gap and no half-written set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cardbench_store::invoices::{self, NewInvoice};
use cardbench_store::spreadsheet::safe_record;
use cardbench_store::{Connection, Store};
use serde::{Deserialize, Serialize};

use crate::config::BillingConfig;
use crate::error::{DocumentError, Result};

pub const CSV_HEADER: [&str; 5] = ["COSTCENTRE", "INVOICENUMBER", "ARTICLENUMBER", "QUANTITY", "ORDERDATE"];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BillingLine {
    pub article_id: String,
    /// YYYY-MM-DD (UTC).
    pub order_date: String,
    pub quantity: u64,
}

/// The cost centre written for an organisation that has none configured: visibly not a real
/// one, so the bill is made and accounting sees at once what to fix.
pub const NO_COST_CENTRE: &str = "NO-COST-CENTRE";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BillingFile {
    pub organisation_id: String,
    /// [`NO_COST_CENTRE`] when the organisation has none configured (`cost_centre_missing`).
    pub cost_centre: String,
    pub cost_centre_missing: bool,
    pub invoice_number: String,
    pub path: PathBuf,
    pub lines: Vec<BillingLine>,
}

/// What is billable in [from, to), per organisation, lines sorted by article then date.
pub fn billable(conn: &Connection, from: &str, to: &str) -> Result<BTreeMap<String, Vec<BillingLine>>> {
    let mut by_org: BTreeMap<String, BTreeMap<(String, String), u64>> = BTreeMap::new();
    let cards = invoices::cards_first_accepted_between(conn, from, to)?;
    let accessories = invoices::accessories_shipped_between(conn, from, to)?;
    for c in cards.into_iter().chain(accessories) {
        *by_org.entry(c.organisation_id).or_default().entry((c.article_id, c.order_date)).or_default() += c.quantity;
    }
    Ok(by_org
        .into_iter()
        .map(|(org, lines)| {
            let lines = lines
                .into_iter()
                .map(|((article_id, order_date), quantity)| BillingLine { article_id, order_date, quantity })
                .collect();
            (org, lines)
        })
        .collect())
}

fn cost_centre<'c>(config: &'c BillingConfig, org: &str) -> Option<&'c str> {
    config.cost_centres.get(org).or(config.default_cost_centre.as_ref()).map(String::as_str)
}

/// A file name from an organisationId: anything but letters, digits, '-' and '_' becomes '_'
/// (an id is outside input and must not climb out of the output directory).
fn file_safe(text: &str) -> String {
    text.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

fn next_invoice_number(conn: &Connection, config: &BillingConfig) -> Result<String> {
    let n = invoices::take_number(conn)?;
    Ok(format!("{}{n:06}", config.invoice_prefix))
}

/// Every cell through [`safe_record`]: article ids come from NGOC, cost centres from config.
fn csv_bytes(cost_centre: &str, invoice: &str, lines: &[BillingLine]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_HEADER)?;
    for l in lines {
        w.write_record(safe_record([cost_centre, invoice, &l.article_id, &l.quantity.to_string(), &l.order_date]))?;
    }
    w.into_inner().map_err(|e| DocumentError::Csv(e.into_error().into()))
}

/// Runs billing for [from, to): takes one invoice number per organisation, writes
/// `billing_<org>_<from>_<to>.csv` files into `out_dir`, and records the invoices. An
/// organisation without a cost centre is billed under [`NO_COST_CENTRE`] (its file says so:
/// `cost_centre_missing`). Organisations with nothing to bill get no file and no number.
pub fn run(store: &Store, from: &str, to: &str, config: &BillingConfig, out_dir: &Path) -> Result<Vec<BillingFile>> {
    if from >= to {
        return Err(DocumentError::InvalidInput(format!("billing period {from} – {to} is empty")));
    }
    cardbench_store::private_files::create_dir_all(out_dir).map_err(DocumentError::io(out_dir))?;
    store.write(|tx| {
        let billable = billable(tx, from, to)?;
        let (from_day, to_day) = (from.get(..10).unwrap_or(from), to.get(..10).unwrap_or(to));
        let now = cardbench_store::time::now();
        let mut files = Vec::new();
        let mut written: Vec<PathBuf> = Vec::new();
        let result = (|| -> Result<()> {
            for (org, lines) in billable {
                let configured = cost_centre(config, &org);
                let centre = configured.unwrap_or(NO_COST_CENTRE).to_owned();
                let invoice = next_invoice_number(tx, config)?;
                invoices::issue(
                    tx,
                    &NewInvoice {
                        invoice_number: &invoice,
                        organisation_id: &org,
                        cost_centre: &centre,
                        period_from: from,
                        period_to: to,
                        created_at: &now,
                        lines: lines.len(),
                    },
                )?;
                let path = out_dir.join(format!("billing_{}_{}_{}.csv", file_safe(&org), file_safe(from_day), file_safe(to_day)));
                if written.contains(&path) {
                    return Err(DocumentError::InvalidInput(format!(
                        "two organisations map to the same file name {}",
                        path.display()
                    )));
                }
                cardbench_store::private_files::write(&path, &csv_bytes(&centre, &invoice, &lines)?).map_err(DocumentError::io(&path))?;
                written.push(path.clone());
                let cost_centre_missing = configured.is_none();
                files.push(BillingFile { organisation_id: org, cost_centre: centre, cost_centre_missing, invoice_number: invoice, path, lines });
            }
            Ok(())
        })();
        if let Err(e) = result {
            // The transaction rolls back the numbers; take the files with it.
            for p in &written {
                let _ = std::fs::remove_file(p);
            }
            return Err(e);
        }
        Ok(files)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisation_ids_cannot_leave_the_output_directory() {
        assert_eq!(file_safe("../../etc/Malmö"), "______etc_Malmö");
    }
}
