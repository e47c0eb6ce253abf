//! What the bureau configures for its documents (read by the caller from its config file; this
//! crate only defines the shape and the defaults).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How the cardholder's name appears on a packing slip. Slips travel in the parcel and pass
/// through many hands, so a customer may want no names on them at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolderDisplay {
    #[default]
    Full,
    /// "Åsa Maria Ölund" → "Å. M. Ö."
    Initials,
    None,
}

impl HolderDisplay {
    pub fn apply(self, name: Option<&str>) -> String {
        let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
            return String::new();
        };
        match self {
            HolderDisplay::Full => name.to_owned(),
            HolderDisplay::Initials => name
                .split_whitespace()
                .filter_map(|w| w.chars().next())
                .map(|c| format!("{c}."))
                .collect::<Vec<_>>()
                .join(" "),
            HolderDisplay::None => String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlipConfig {
    /// The one-line return address in the envelope window (DIN 5008), e.g.
    /// "Card Bureau GmbH · Werkstr. 1 · 12345 Berlin".
    pub sender_line: String,
    /// Name printed at the top right of every slip.
    pub sender_name: String,
    pub holder_display: HolderDisplay,
    /// The bureau's own country (ISO alpha-2): it is left off domestic addresses, as the post asks.
    pub home_country: Option<String>,
}

impl Default for SlipConfig {
    fn default() -> Self {
        SlipConfig {
            sender_line: String::new(),
            sender_name: String::new(),
            holder_display: HolderDisplay::Full,
            home_country: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BillingConfig {
    /// organisationId → cost centre.
    pub cost_centres: BTreeMap<String, String>,
    /// Used for an organisation missing from `cost_centres`; without it such an organisation is
    /// billed under [`crate::billing::NO_COST_CENTRE`] and listed, so accounting sees it at once
    /// (a guessed cost centre would be billed wrongly without anyone noticing).
    pub default_cost_centre: Option<String>,
    /// Put before the running number, e.g. "CB-" → "CB-000042".
    pub invoice_prefix: String,
}

/// The longest cost centre accepted (a code, not a description).
pub const MAX_COST_CENTRE: usize = 64;

impl BillingConfig {
    /// Refuses what would make a bad bill: a blank organisation or cost centre, one longer than
    /// [`MAX_COST_CENTRE`], control characters, or the placeholder used as a real cost centre.
    /// `Err((setting, reason))`.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let check = |setting: &'static str, what: &str, value: &str| -> Result<(), (&'static str, String)> {
            let bad = |reason: String| Err((setting, reason));
            if value.trim().is_empty() {
                return bad(format!("{what}: must not be blank"));
            }
            if value.trim() != value {
                return bad(format!("{what} {value:?}: no spaces before or after"));
            }
            if value.chars().count() > MAX_COST_CENTRE {
                return bad(format!("{what} {value:?}: at most {MAX_COST_CENTRE} characters"));
            }
            if value.chars().any(char::is_control) {
                return bad(format!("{what} {value:?}: no control characters"));
            }
            if value == crate::billing::NO_COST_CENTRE {
                return bad(format!("{what}: {value} is the placeholder for a missing cost centre"));
            }
            Ok(())
        };
        for (org, centre) in &self.cost_centres {
            check("documents.billing.cost_centres", "organisation", org)?;
            check("documents.billing.cost_centres", &format!("cost centre of {org}"), centre)?;
        }
        if let Some(centre) = &self.default_cost_centre {
            check("documents.billing.default_cost_centre", "default cost centre", centre)?;
        }
        Ok(())
    }
}

/// A shift starts at `start` (local time, "HH:MM") and lasts until the next shift's start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShiftDef {
    pub name: String,
    pub start: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShiftConfig {
    pub shifts: Vec<ShiftDef>,
    /// Offset of the bureau's local time from UTC, in minutes (shifts and the hourly chart are in
    /// local time; the store is in UTC).
    pub utc_offset_minutes: i32,
}

impl Default for ShiftConfig {
    fn default() -> Self {
        ShiftConfig {
            shifts: vec![
                ShiftDef { name: "early".into(), start: "06:00".into() },
                ShiftDef { name: "late".into(), start: "14:00".into() },
                ShiftDef { name: "night".into(), start: "22:00".into() },
            ],
            utc_offset_minutes: 0,
        }
    }
}

/// Where printed documents go: a CUPS queue, else a directory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrintConfig {
    pub printer: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DocumentsConfig {
    pub slip: SlipConfig,
    pub billing: BillingConfig,
    pub shift: ShiftConfig,
    pub print: PrintConfig,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_keep_non_ascii_letters() {
        assert_eq!(HolderDisplay::Initials.apply(Some("Åsa Maria Ölund")), "Å. M. Ö.");
        assert_eq!(HolderDisplay::None.apply(Some("Åsa")), "");
        assert_eq!(HolderDisplay::Full.apply(Some(" Łukasz ")), "Łukasz");
        assert_eq!(HolderDisplay::Full.apply(None), "");
    }
}
