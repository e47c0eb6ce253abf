//! The `[devices]` section of the config file: readers, the encoder hot folder, job export. Read
//! by the caller (cardbench-runtime's `Config`); this crate defines the shape, the defaults and
//! what makes a setting impossible.
//!
//! ```toml
//! [devices.reader]
//! name_filter = "ACR122"            # only readers whose name contains this
//!
//! [devices.hotfolder]
//! folder = "/srv/encoder/results"
//! card_id_column = "CardID"         # the result file's column holding the cardId
//! settle_ms = 1000                  # a file must keep its size this long to count as complete
//! extensions = ["csv", "txt", "jsonl", "ndjson"]  # only these are taken; others are left alone
//! max_file_bytes = 16777216         # a bigger file goes to failed/ unread
//! rescan_secs = 30                  # look again even without events (network shares send none)
//! [devices.hotfolder.columns]       # result-file column → readout field
//! UID = "MIFARE_UID"
//!
//! [devices.export]
//! folder = "/srv/encoder/jobs"
//! bom = true                        # for Windows tools that need it to read UTF-8
//! columns = ["cardId", "cardElements", "expectedFields"]
//! spreadsheet_safe = true           # a cell starting = + - @ gets a leading ' (no formulas)
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DevicesConfig {
    pub reader: ReaderConfig,
    pub hotfolder: HotfolderConfig,
    pub export: ExportConfig,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReaderConfig {
    /// Only readers whose name contains this (case-insensitive); none: every reader. Keeps a
    /// laptop's built-in reader or a Yubikey from being taken for the production reader.
    pub name_filter: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HotfolderConfig {
    /// Where the personalization machine writes its result files. None: no hot folder.
    pub folder: Option<PathBuf>,
    /// The column (CSV) or key (JSON Lines) holding the cardId.
    pub card_id_column: String,
    /// Result-file column → readout field (e.g. `UID = "MIFARE_UID"`). A column that is already a
    /// field name needs no entry; columns neither mapped nor expected are ignored.
    pub columns: BTreeMap<String, String>,
    /// How long (ms) a file must keep its size before it is taken: the encoder writes in pieces
    /// and does not tell us when it is done.
    pub settle_ms: u64,
    /// The file name endings taken as result files (without the dot, any case). `jsonl`,
    /// `ndjson` and `json` are read as JSON Lines, any other as CSV. A file with another ending
    /// is left where it is: the folder may be shared with other tools.
    pub extensions: Vec<String>,
    /// A result file bigger than this is moved to `failed/` with a reason, never read: a runaway
    /// writer or a wrong file must not fill memory.
    pub max_file_bytes: u64,
    /// The folder is listed again this often (seconds) even when no event came: SMB and NFS
    /// shares tell inotify nothing about files written from other machines.
    pub rescan_secs: u64,
}

/// The result-file endings taken unless configured otherwise.
pub const DEFAULT_EXTENSIONS: [&str; 4] = ["csv", "txt", "jsonl", "ndjson"];
/// 16 MiB: some 100,000 rows; a day's output of a large encoder is far less.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

impl Default for HotfolderConfig {
    fn default() -> Self {
        HotfolderConfig {
            folder: None,
            card_id_column: "cardId".into(),
            columns: BTreeMap::new(),
            settle_ms: 1000,
            extensions: DEFAULT_EXTENSIONS.iter().map(|e| (*e).to_owned()).collect(),
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            rescan_secs: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExportConfig {
    /// Where job files for the personalization machine go. None: `export-job --folder` is needed.
    pub folder: Option<PathBuf>,
    /// Start the file with a UTF-8 byte order mark (Excel and some encoder tools on Windows read
    /// UTF-8 without it as a legacy code page and garble "Å").
    pub bom: bool,
    /// The columns, in order: `cardId`, `shipmentId`, `organisationId`, `articleId`,
    /// `cardElements` (one column per element name), `element:NAME` (one element),
    /// `expectedFields` (the expected readout fields, `|`-separated).
    pub columns: Vec<String>,
    /// Field separator (one ASCII character).
    pub delimiter: char,
    /// A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`,
    /// so the file is safe to open in a spreadsheet (card data from NGOC could otherwise run as
    /// a formula). Off only for an encoder that must get such values byte for byte and whose
    /// job files no one opens in a spreadsheet.
    pub spreadsheet_safe: bool,
}

impl Default for ExportConfig {
    fn default() -> Self {
        ExportConfig {
            folder: None,
            bom: false,
            columns: vec!["cardId".into(), "cardElements".into(), "expectedFields".into()],
            delimiter: ',',
            spreadsheet_safe: true,
        }
    }
}

/// The export column names we understand.
pub(crate) const EXPORT_COLUMNS: [&str; 6] =
    ["cardId", "shipmentId", "organisationId", "articleId", "cardElements", "expectedFields"];

impl DevicesConfig {
    /// Refuses settings that cannot work: `(setting, reason)`.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let h = &self.hotfolder;
        if h.card_id_column.trim().is_empty() {
            return Err(("devices.hotfolder.card_id_column", "must name the column holding the cardId".into()));
        }
        for (column, field) in &h.columns {
            if column.trim().is_empty() || field.trim().is_empty() {
                return Err(("devices.hotfolder.columns", format!("{column:?} = {field:?}: both sides must be named")));
            }
        }
        if !(50..=600_000).contains(&h.settle_ms) {
            return Err(("devices.hotfolder.settle_ms", format!("{} ms: must be between 50 and 600000", h.settle_ms)));
        }
        if h.extensions.is_empty() {
            return Err(("devices.hotfolder.extensions", "name at least one result-file ending (e.g. \"csv\")".into()));
        }
        for ext in &h.extensions {
            if ext.is_empty() || !ext.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(("devices.hotfolder.extensions", format!("{ext:?}: letters and digits only, without the dot")));
            }
        }
        if !(1..=1024 * 1024 * 1024).contains(&h.max_file_bytes) {
            return Err(("devices.hotfolder.max_file_bytes", format!("{}: must be between 1 and 1073741824", h.max_file_bytes)));
        }
        if !(1..=86_400).contains(&h.rescan_secs) {
            return Err(("devices.hotfolder.rescan_secs", format!("{} s: must be between 1 and 86400", h.rescan_secs)));
        }
        if let (Some(hot), Some(export)) = (&h.folder, &self.export.folder)
            && crate::hotfolder::same_directory(hot, export)
        {
            return Err(("devices.export.folder", "must not be the hot folder: our job files would be read back as results".into()));
        }
        let e = &self.export;
        if e.columns.is_empty() {
            return Err(("devices.export.columns", "name at least one column".into()));
        }
        for column in &e.columns {
            let known = EXPORT_COLUMNS.contains(&column.as_str())
                || column.strip_prefix("element:").is_some_and(|name| !name.trim().is_empty());
            if !known {
                return Err((
                    "devices.export.columns",
                    format!("unknown column {column:?} (known: {}, element:NAME)", EXPORT_COLUMNS.join(", ")),
                ));
            }
        }
        if !e.delimiter.is_ascii() || e.delimiter.is_ascii_alphanumeric() || e.delimiter == '"' || e.delimiter == '\n' {
            return Err(("devices.export.delimiter", format!("{:?} cannot separate fields", e.delimiter)));
        }
        if self.reader.name_filter.as_deref().is_some_and(|f| f.trim().is_empty()) {
            return Err(("devices.reader.name_filter", "must not be blank (leave it out for every reader)".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_a_full_section_parses() {
        DevicesConfig::default().validate().expect("defaults");
        let text = r#"
            [reader]
            name_filter = "ACR122"
            [hotfolder]
            folder = "/tmp/in"
            card_id_column = "CardID"
            settle_ms = 500
            [hotfolder.columns]
            UID = "MIFARE_UID"
            [export]
            folder = "/tmp/out"
            bom = true
            columns = ["cardId", "element:NAME", "expectedFields"]
            delimiter = ";"
        "#;
        let config: DevicesConfig = toml_from(text);
        config.validate().expect("valid");
        assert_eq!(config.hotfolder.columns.get("UID").map(String::as_str), Some("MIFARE_UID"));
        assert!(config.export.bom);
    }

    #[test]
    fn impossible_settings_are_refused_with_the_setting_named() {
        let mut c = DevicesConfig::default();
        c.export.columns = vec!["cardId".into(), "colour".into()];
        assert_eq!(c.validate().expect_err("unknown column").0, "devices.export.columns");
        let mut c = DevicesConfig::default();
        c.hotfolder.folder = Some("/x".into());
        c.export.folder = Some("/x".into());
        assert_eq!(c.validate().expect_err("same folder").0, "devices.export.folder");
        let mut c = DevicesConfig::default();
        c.hotfolder.settle_ms = 0;
        assert_eq!(c.validate().expect_err("no settle time").0, "devices.hotfolder.settle_ms");
        let mut c = DevicesConfig::default();
        c.export.delimiter = 'x';
        assert!(c.validate().is_err());
    }

    fn toml_from(text: &str) -> DevicesConfig {
        toml::from_str(text).expect("shape")
    }
}
