//! Job files for the personalization machine: one CSV per batch of cards with what to print and
//! encode (cardId, card elements) and which readouts to report back (expected fields).
//!
//! Written to a hidden temporary name in the target folder, flushed to disk, then renamed: the
//! machine watches that folder and must never start on half a file. The folder is the same file
//! system, so the rename is atomic.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use cardbench_store::cards::{self, CardRow};
use cardbench_store::Connection;
use cardbench_workflow::WorkflowError;
use cardbench_store::spreadsheet::safe_record;
use serde::{Deserialize, Serialize};

use crate::config::ExportConfig;
use crate::error::{DevicesError, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobExport {
    pub path: PathBuf,
    pub cards: usize,
    pub columns: Vec<String>,
}

enum Column {
    CardId,
    ShipmentId,
    OrganisationId,
    ArticleId,
    Element(String),
    ExpectedFields,
}

impl Column {
    fn header(&self) -> &str {
        match self {
            Column::CardId => "cardId",
            Column::ShipmentId => "shipmentId",
            Column::OrganisationId => "organisationId",
            Column::ArticleId => "articleId",
            Column::Element(name) => name,
            Column::ExpectedFields => "expectedFields",
        }
    }

    fn value(&self, card: &CardRow) -> String {
        match self {
            Column::CardId => card.card_id.clone(),
            Column::ShipmentId => card.shipment_id.clone(),
            Column::OrganisationId => card.organisation_id.clone(),
            Column::ArticleId => card.article_id.clone(),
            Column::Element(name) => card.request.card.card_elements.get(name).cloned().unwrap_or_default(),
            Column::ExpectedFields => card.request.card.expected_report_data_fields.join("|"),
        }
    }
}

/// Loads `card_ids` (all must exist) and writes one job file named `job-NAME-TIMESTAMP.csv` into
/// `folder`. Returns where it went.
pub fn export_job(conn: &Connection, card_ids: &[String], config: &ExportConfig, folder: &Path, job_name: &str) -> Result<JobExport> {
    if card_ids.is_empty() {
        return Err(DevicesError::Config("no cards to export".into()));
    }
    let mut rows = Vec::with_capacity(card_ids.len());
    for id in card_ids {
        rows.push(cards::get(conn, id)?.ok_or_else(|| WorkflowError::UnknownCard(id.clone()))?);
    }
    let columns = resolve_columns(config, &rows);
    let headers: Vec<String> = columns.iter().map(|c| c.header().to_owned()).collect();

    let mut body = Vec::new();
    if config.bom {
        body.extend_from_slice(b"\xEF\xBB\xBF");
    }
    {
        let delimiter = u8::try_from(u32::from(config.delimiter)).map_err(|_| DevicesError::Config("the delimiter must be ASCII".into()))?;
        let mut writer = csv::WriterBuilder::new().delimiter(delimiter).terminator(csv::Terminator::CRLF).from_writer(&mut body);
        // Element names and values come from NGOC: a cell a spreadsheet would evaluate gets a
        // leading quote, unless the bureau's encoder needs the values raw.
        let cells = |cells: Vec<String>| if config.spreadsheet_safe { safe_record(cells) } else { cells };
        writer.write_record(cells(headers.clone())).map_err(|e| DevicesError::Csv(e.to_string()))?;
        for card in &rows {
            writer.write_record(cells(columns.iter().map(|c| c.value(card)).collect())).map_err(|e| DevicesError::Csv(e.to_string()))?;
        }
        writer.flush().map_err(|e| DevicesError::Csv(e.to_string()))?;
    }

    std::fs::create_dir_all(folder).map_err(|e| DevicesError::io(folder, e))?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%3fZ");
    let base = format!("job-{}-{stamp}", safe_name(job_name));
    let mut target = folder.join(format!("{base}.csv"));
    let mut n = 2;
    while target.exists() {
        target = folder.join(format!("{base}-{n}.csv"));
        n += 1;
    }
    let tmp = folder.join(format!(".{}.tmp", target.file_name().and_then(|f| f.to_str()).unwrap_or("job")));
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&body)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(DevicesError::io(&tmp, e));
    }
    if let Err(e) = std::fs::rename(&tmp, &target) {
        let _ = std::fs::remove_file(&tmp);
        return Err(DevicesError::io(&target, e));
    }
    // The rename itself must survive a power cut too.
    if let Ok(dir) = std::fs::File::open(folder) {
        let _ = dir.sync_all();
    }
    tracing::info!(file = %target.display(), cards = rows.len(), "job file written");
    Ok(JobExport { path: target, cards: rows.len(), columns: headers })
}

fn resolve_columns(config: &ExportConfig, rows: &[CardRow]) -> Vec<Column> {
    let mut out = Vec::new();
    for name in &config.columns {
        match name.as_str() {
            "cardId" => out.push(Column::CardId),
            "shipmentId" => out.push(Column::ShipmentId),
            "organisationId" => out.push(Column::OrganisationId),
            "articleId" => out.push(Column::ArticleId),
            "expectedFields" => out.push(Column::ExpectedFields),
            // Every element name of the batch, in first-seen order: cards of one job may differ.
            "cardElements" => {
                let mut names: Vec<&String> = Vec::new();
                for card in rows {
                    for key in card.request.card.card_elements.keys() {
                        if !names.contains(&key) {
                            names.push(key);
                        }
                    }
                }
                out.extend(names.into_iter().map(|n| Column::Element(n.clone())));
            }
            other => {
                if let Some(element) = other.strip_prefix("element:") {
                    out.push(Column::Element(element.to_owned()));
                }
            }
        }
    }
    out
}

/// A job name as a file name part: letters, digits, `-` and `_` only.
fn safe_name(name: &str) -> String {
    let cleaned: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    if cleaned.is_empty() { "batch".into() } else { cleaned }
}
