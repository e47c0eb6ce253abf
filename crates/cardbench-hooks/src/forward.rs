//! HTTP event forwarding: an end-user Event per produced or shipped card, POSTed with BASIC
//! credentials to an event endpoint whose rules we check before sending, so what it would refuse
//! with a 400 is caught here with its reason.
//!
//! The Event is built at send time from the card's production request in the store, through the
//! sink's field mapping: the outbox row holds only the envelope (ids, topic, time), never
//! cardholder data. A card whose data retention purged is a permanent failure with that reason.
//!
//! The endpoint's response codes and what they mean here are one function, [`outcome`].

use std::collections::BTreeMap;

use cardbench_protocol::ExternalProductionData;
use serde::{Deserialize, Serialize};

use crate::Outcome;

/// The topics a sink receives when none are given.
pub const DEFAULT_TOPICS: [&str; 2] = ["CARD_PRODUCED", "SHIPPED"];

/// The `action` values the endpoint accepts.
pub const ACTIONS: [&str; 4] = ["PRODUCED", "SHIPPED", "DELIVERED", "CANCELLED"];

/// ISO 3166-1 alpha-2: the `country` values the endpoint accepts.
pub const COUNTRIES: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE",
    "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD",
    "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
    "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU",
    "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
    "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME",
    "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
    "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI",
    "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK",
    "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// What the endpoint's answer means for the attempt. The rules of the endpoint, in one place:
/// - 204 and every other 2xx: delivered;
/// - 400: the Event was refused as such (permanent, the response body recorded, not retried);
/// - 401 (and 403): the credentials were refused: the sink stops (paused) and alerts;
/// - 429 saying "already processed": the endpoint has it already, delivered; any other 429 is
///   rate limiting and retried;
/// - 500, 503 (and 502, 504, 408): retried with backoff;
/// - 501: the endpoint does not do this (permanent);
/// - anything else in 4xx: permanent; anything else: retried.
pub fn outcome(status: u16, body: &str) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered,
        401 | 403 => Outcome::Stopped,
        429 if body.to_ascii_lowercase().contains("already processed") => Outcome::Delivered,
        429 | 408 | 500 | 502 | 503 | 504 => Outcome::Retry,
        // 400 (refused as such), 501 (not implemented), the other 4xx.
        400..=499 | 501 => Outcome::Permanent,
        _ => Outcome::Retry,
    }
}

/// A forwarding sink's settings (the subscriber's `settings` JSON). Every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ForwardSettings {
    /// The BASIC user; the password is in the keyring.
    pub user: String,
    /// `_meta.originStore` of every Event.
    pub origin_store: String,
    /// Event topic → `action`.
    pub actions: BTreeMap<String, String>,
    /// Where each Event field comes from.
    pub fields: FieldMapping,
}

impl Default for ForwardSettings {
    fn default() -> Self {
        ForwardSettings {
            user: String::new(),
            origin_store: "cardbench".into(),
            actions: [("CARD_PRODUCED", "PRODUCED"), ("SHIPPED", "SHIPPED"), ("SHIPPED_OK", "DELIVERED")]
                .into_iter()
                .map(|(t, a)| (t.to_owned(), a.to_owned()))
                .collect(),
            fields: FieldMapping::default(),
        }
    }
}

impl ForwardSettings {
    /// Reads a subscriber's settings JSON; unknown keys are kept out, missing ones defaulted.
    pub fn from_json(json: &str) -> Result<ForwardSettings, serde_json::Error> {
        if json.trim().is_empty() {
            return Ok(ForwardSettings::default());
        }
        serde_json::from_str(json)
    }
}

/// Where each Event field is read from. A source is one of:
/// - a dotted path into the production request as NGOC sent it (camelCase), e.g.
///   `card.cardElements.EMAIL`, `address.postalCode`, `shipmentId`;
/// - `holder.first` / `holder.last` / `holder.name`: the cardholder's name (the card element
///   NGOC names it by, else the recipient), split at its last space;
/// - `=text`: that text itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FieldMapping {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub company_name: String,
    pub street: String,
    pub zipcode: String,
    pub city: String,
    pub country: String,
    pub order_id: String,
    pub product_reference: String,
    pub product_name: String,
}

impl Default for FieldMapping {
    fn default() -> Self {
        FieldMapping {
            email: "card.cardElements.EMAIL".into(),
            first_name: "holder.first".into(),
            last_name: "holder.last".into(),
            company_name: "address.companyName".into(),
            street: "address.addressOne".into(),
            zipcode: "address.postalCode".into(),
            city: "address.city".into(),
            country: "address.countryCode".into(),
            order_id: "shipmentId".into(),
            product_reference: "card.articleId".into(),
            product_name: "card.articleId".into(),
        }
    }
}

/// The end-user Event the endpoint takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndUserEvent {
    pub action: String,
    /// Epoch milliseconds: when the change happened (the envelope's `created`).
    pub action_time: i64,
    #[serde(rename = "_meta")]
    pub meta: Meta,
    pub user: User,
    pub order: Order,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub origin_store: String,
    /// Epoch milliseconds: when Cardbench received the request the data comes from.
    pub data_acquisition_time: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    pub addresses: Vec<PostalAddress>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostalAddress {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zipcode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub product: Product,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub unique_reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One card the Event is about: its request and when Cardbench received it (epoch ms).
#[derive(Debug, Clone)]
pub struct Source {
    pub request: ExternalProductionData,
    pub received_ms: i64,
}

/// Why no Event is sent for an envelope: permanent, shown with the attempt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsendable {
    #[error("no action is mapped for topic {0}")]
    NoAction(String),
    #[error("the event names no card, parcel or shipment")]
    NoCard,
    #[error("card {0} is unknown here")]
    UnknownCard(String),
    #[error("the cardholder data of card {0} was purged by retention")]
    Purged(String),
    #[error("the event would be refused by the endpoint: {}", .0.join("; "))]
    Invalid(Vec<String>),
    #[error("cannot read the card: {0}")]
    Store(String),
}

fn lookup(source: &str, request: &serde_json::Value, holder: Option<&str>) -> Option<String> {
    let source = source.trim();
    if let Some(text) = source.strip_prefix('=') {
        return Some(text.to_owned()).filter(|t| !t.is_empty());
    }
    let split = |h: &str| -> (Option<String>, Option<String>) {
        let h = h.trim();
        match h.rsplit_once(' ') {
            Some((first, last)) => (Some(first.trim().to_owned()), Some(last.trim().to_owned())),
            None => (None, Some(h.to_owned())),
        }
    };
    let value = match source {
        "holder.name" => holder.map(str::to_owned),
        "holder.first" => holder.and_then(|h| split(h).0),
        "holder.last" => holder.and_then(|h| split(h).1),
        "" => None,
        path => {
            let mut at = request;
            for key in path.split('.') {
                at = at.get(key)?;
            }
            match at {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            }
        }
    };
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The Event for an envelope of `topic` created at `created_ms`, about `cards` (one for a card's
/// event, the parcel's or shipment's cards for SHIPPED), through `settings`; validated.
pub fn build(topic: &str, created_ms: i64, settings: &ForwardSettings, cards: &[Source]) -> Result<EndUserEvent, Unsendable> {
    let action = settings.actions.get(topic).cloned().ok_or_else(|| Unsendable::NoAction(topic.to_owned()))?;
    let first = cards.first().ok_or(Unsendable::NoCard)?;
    let request = serde_json::to_value(&first.request).unwrap_or(serde_json::Value::Null);
    let holder = first.request.holder_name();
    let f = &settings.fields;
    let get = |source: &str| lookup(source, &request, holder);
    let items = cards
        .iter()
        .map(|c| {
            let r = serde_json::to_value(&c.request).unwrap_or(serde_json::Value::Null);
            let h = c.request.holder_name();
            Item {
                product: Product {
                    unique_reference: lookup(&f.product_reference, &r, h).unwrap_or_default(),
                    name: lookup(&f.product_name, &r, h),
                },
                quantity: 1,
            }
        })
        .collect();
    let event = EndUserEvent {
        action,
        action_time: created_ms,
        meta: Meta { origin_store: settings.origin_store.clone(), data_acquisition_time: first.received_ms },
        user: User {
            email: get(&f.email),
            first_name: get(&f.first_name),
            last_name: get(&f.last_name),
            company_name: get(&f.company_name),
            addresses: vec![PostalAddress {
                street: get(&f.street),
                zipcode: get(&f.zipcode),
                city: get(&f.city),
                country: get(&f.country).map(|c| c.to_ascii_uppercase()),
            }],
        },
        order: Order { id: get(&f.order_id).unwrap_or_default(), items },
    };
    let problems = validate(&event);
    if problems.is_empty() { Ok(event) } else { Err(Unsendable::Invalid(problems)) }
}

/// A valid Event that names no card, for `forward test`.
pub fn sample(settings: &ForwardSettings, now_ms: i64) -> EndUserEvent {
    EndUserEvent {
        action: settings.actions.values().next().cloned().unwrap_or_else(|| ACTIONS[0].to_owned()),
        action_time: now_ms,
        meta: Meta { origin_store: settings.origin_store.clone(), data_acquisition_time: now_ms },
        user: User {
            email: Some("test@cardbench.invalid".into()),
            first_name: Some("Test".into()),
            last_name: Some("Cardbench".into()),
            company_name: None,
            addresses: vec![PostalAddress { street: None, zipcode: None, city: None, country: Some("DE".into()) }],
        },
        order: Order {
            id: format!("TEST-{now_ms}"),
            items: vec![Item { product: Product { unique_reference: "TEST".into(), name: Some("Cardbench test".into()) }, quantity: 1 }],
        },
    }
}

/// Whether `email` has the endpoint's form: one `@`, a non-empty local part, a domain with a dot
/// and no empty label, no spaces.
pub fn email_ok(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace)
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
}

/// The endpoint's rules: what it would answer 400 for. Empty when the Event passes.
pub fn validate(event: &EndUserEvent) -> Vec<String> {
    let mut problems = Vec::new();
    if event.action.is_empty() {
        problems.push("action is mandatory".to_owned());
    } else if !ACTIONS.contains(&event.action.as_str()) {
        problems.push(format!("action `{}` is not one of {}", event.action, ACTIONS.join(", ")));
    }
    if event.action_time <= 0 {
        problems.push("actionTime is mandatory".to_owned());
    }
    if event.meta.origin_store.trim().is_empty() {
        problems.push("_meta.originStore is mandatory".to_owned());
    }
    if event.meta.data_acquisition_time <= 0 {
        problems.push("_meta.dataAcquisitionTime is mandatory".to_owned());
    }
    match &event.user.email {
        None => problems.push("user.email is mandatory".to_owned()),
        Some(e) if !email_ok(e) => problems.push("user.email is not an email address".to_owned()),
        Some(_) => {}
    }
    for (i, a) in event.user.addresses.iter().enumerate() {
        if let Some(c) = &a.country
            && !COUNTRIES.contains(&c.as_str())
        {
            problems.push(format!("user.addresses[{i}].country `{c}` is not an ISO 3166-1 alpha-2 code"));
        }
    }
    if event.order.id.is_empty() {
        problems.push("order.id is mandatory".to_owned());
    }
    if event.order.items.is_empty() {
        problems.push("order.items must not be empty".to_owned());
    }
    for (i, item) in event.order.items.iter().enumerate() {
        if item.product.unique_reference.is_empty() {
            problems.push(format!("order.items[{i}].product.uniqueReference is mandatory"));
        }
        if item.quantity == 0 {
            problems.push(format!("order.items[{i}].quantity must be at least 1"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_code_of_the_endpoint_has_its_outcome() {
        assert_eq!(outcome(204, ""), Outcome::Delivered);
        assert_eq!(outcome(200, "{}"), Outcome::Delivered);
        assert_eq!(outcome(202, ""), Outcome::Delivered);
        assert_eq!(outcome(400, "{\"error\":\"bad email\"}"), Outcome::Permanent);
        assert_eq!(outcome(401, ""), Outcome::Stopped);
        assert_eq!(outcome(429, "Event already processed"), Outcome::Delivered);
        assert_eq!(outcome(429, "slow down"), Outcome::Retry);
        assert_eq!(outcome(500, ""), Outcome::Retry);
        assert_eq!(outcome(503, ""), Outcome::Retry);
        assert_eq!(outcome(501, ""), Outcome::Permanent);
    }

    fn source() -> Source {
        let mut request = cardbench_sim::fixtures::request("C-1", "S-1");
        request.card.card_elements.insert("EMAIL".into(), "zoe@example.com".into());
        request.card.card_elements.insert("NAME".into(), "Zoë Ångström".into());
        request.card.card_elements.shift_remove("CARDHOLDER_NAME");
        request.address.country_code = "de".into();
        Source { request, received_ms: 1_700_000_000_000 }
    }

    #[test]
    fn the_default_mapping_builds_a_valid_event() {
        let e = build("CARD_PRODUCED", 1_700_000_001_000, &ForwardSettings::default(), &[source()]).expect("valid");
        assert_eq!(e.action, "PRODUCED");
        assert_eq!(e.user.email.as_deref(), Some("zoe@example.com"));
        assert_eq!(e.user.addresses[0].country.as_deref(), Some("DE"));
        assert_eq!(e.order.id, "S-1");
        assert_eq!(e.order.items.len(), 1);
        let json = serde_json::to_value(&e).expect("json");
        assert_eq!(json["_meta"]["originStore"], "cardbench");
        assert_eq!(json["actionTime"], 1_700_000_001_000i64);
    }

    #[test]
    fn what_the_endpoint_would_refuse_is_caught_with_its_reason() {
        let mut s = source();
        s.request.card.card_elements.insert("EMAIL".into(), "not-an-email".into());
        s.request.address.country_code = "XX".into();
        match build("SHIPPED", 1, &ForwardSettings::default(), &[s]) {
            Err(Unsendable::Invalid(p)) => {
                assert!(p.iter().any(|m| m.contains("user.email")), "{p:?}");
                assert!(p.iter().any(|m| m.contains("country `XX`")), "{p:?}");
            }
            other => panic!("{other:?}"),
        }
        let mut settings = ForwardSettings::default();
        settings.actions.insert("SHIPPED".into(), "SENT".into());
        match build("SHIPPED", 1, &settings, &[source()]) {
            Err(Unsendable::Invalid(p)) => assert!(p.iter().any(|m| m.contains("action `SENT`")), "{p:?}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(build("REPORT_OK", 1, &ForwardSettings::default(), &[source()]), Err(Unsendable::NoAction("REPORT_OK".into())));
    }

    #[test]
    fn a_mapping_reads_paths_literals_and_the_holder() {
        let mut settings = ForwardSettings::default();
        settings.fields.email = "=erp@bureau.example".into();
        settings.fields.company_name = "organisationId".into();
        let e = build("CARD_PRODUCED", 1, &settings, &[source()]).expect("valid");
        assert_eq!(e.user.email.as_deref(), Some("erp@bureau.example"));
        assert_eq!(e.user.company_name.as_deref(), Some(source().request.organisation_id.as_str()));
        assert_eq!((e.user.first_name.as_deref(), e.user.last_name.as_deref()), (Some("Zoë"), Some("Ångström")));
    }

    #[test]
    fn email_pattern() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org"] {
            assert!(email_ok(ok), "{ok}");
        }
        for bad in ["", "a", "a@b", "@b.co", "a@@b.co", "a b@c.de", "a@b..de", "a@.de"] {
            assert!(!email_ok(bad), "{bad}");
        }
    }
}
