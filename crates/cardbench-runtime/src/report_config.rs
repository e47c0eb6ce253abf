//! The config file's report field sections: fields a bureau meets that Cardbench does not know
//! yet, and external report data asked for by article.
//!
//! ```toml
//! [report_fields.CHIP_NO]              # a UID NGOC asks for under a name not built in
//! kind = "mifare_uid"                  # mifare_uid | desfire_uid | atr
//! order = "lsb"                        # msb (default) | lsb
//! format = "dec"                       # hex (default) | dec
//!
//! [external_report_data.by_article]    # besides what a request asks for itself
//! "ART-MIFARE-PIN" = ["PIN_CODE"]
//! ```

use std::collections::BTreeMap;

use cardbench_protocol::ReportFieldCatalogue;
use cardbench_workflow::ReportSettings;
use serde::{Deserialize, Serialize};

use crate::config::{Config, ConfigError};

/// `[external_report_data]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExternalReportDataConfig {
    /// Article id → the external values (secret) every card of that article reports.
    pub by_article: BTreeMap<String, Vec<String>>,
}

impl ExternalReportDataConfig {
    pub fn is_empty(&self) -> bool {
        self.by_article.is_empty()
    }
}

impl Config {
    /// What the workflow needs of these sections, checked.
    pub fn report_settings(&self) -> Result<ReportSettings, ConfigError> {
        let catalogue = ReportFieldCatalogue::with_extra(&self.report_fields)
            .map_err(|e| ConfigError::Invalid { setting: "report_fields", reason: e.to_string() })?;
        for (article, fields) in &self.external_report_data.by_article {
            if let Some(bad) = fields.iter().find(|f| f.trim().is_empty() || catalogue.is_known(f)) {
                let reason = format!("{article}: {bad:?} cannot be external report data (blank, or a known report field)");
                return Err(ConfigError::Invalid { setting: "external_report_data.by_article", reason });
            }
        }
        Ok(ReportSettings { catalogue, external_by_article: self.external_report_data.by_article.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_fields_and_external_data_are_read_checked_and_shown() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[report_fields.CHIP_NO]\nkind = \"mifare_uid\"\norder = \"lsb\"\nformat = \"dec\"\n\
             [external_report_data.by_article]\n\"ART-PIN\" = [\"PIN_CODE\"]\n",
        )
        .expect("write");
        let config = Config::load(&path).expect("valid");
        let settings = config.report_settings().expect("settings");
        assert_eq!(settings.catalogue.normalise("CHIP_NO", "472621572").expect("a UID").msb_first.as_deref(), Some("04A22B1C"));
        assert_eq!(settings.external_by_article["ART-PIN"], ["PIN_CODE"]);
        let shown = toml::to_string_pretty(&config).expect("show");
        assert!(shown.contains("[report_fields.CHIP_NO]") && shown.contains("ART-PIN = [\"PIN_CODE\"]"), "config show prints them:\n{shown}");

        for (text, named) in [
            ("[report_fields.MIFARE_UID]\nkind = \"atr\"\n", "report_fields"),
            ("[report_fields.X]\nkind = \"mifare_uid\"\nordr = \"lsb\"\n", "ordr"),
            ("[report_fields.X]\nkind = \"barcode\"\n", "barcode"),
            ("[external_report_data.by_article]\nA = [\"MIFARE_UID\"]\n", "external_report_data"),
        ] {
            std::fs::write(&path, text).expect("write");
            let err = Config::load(&path).expect_err(text);
            assert!(err.to_string().contains(named), "{text}: {err}");
        }
    }
}
