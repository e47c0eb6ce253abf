//! Realistic request content: organisations, their articles and addresses, cardholders with
//! non-ASCII names, shipments of several cards, accessories. Pure: the caller supplies the random
//! source and the ids, so a seed reproduces the content.

use cardbench_protocol::{Accessory, Address, CardRequest, ExternalProductionData, ReceivedTime, ReceivedZone};

use crate::config::WireForms;
use chrono::{DateTime, FixedOffset, Offset as _, Utc};
use indexmap::IndexMap;
use rand::Rng;
use rand::seq::IndexedRandom;

struct Organisation {
    id: &'static str,
    company: &'static str,
    country: &'static str,
    /// (street, postal code, city)
    sites: &'static [(&'static str, &'static str, &'static str)],
    phone_prefix: &'static str,
    /// UTC offset of its time zone in winter, seconds.
    offset: i32,
    articles: &'static [&'static str],
    /// The name element this organisation's card layout uses.
    name_key: &'static str,
}

const ORGANISATIONS: [Organisation; 5] = [
    Organisation {
        id: "ORG-NORDVARD-SE",
        company: "Nordvård Sjukhus AB",
        country: "SE",
        sites: &[("Sjukhusvägen 12", "413 45", "Göteborg"), ("Östra Förstadsgatan 3", "211 31", "Malmö")],
        phone_prefix: "+46 31",
        offset: 3600,
        articles: &["ART-STAFF-MIFARE", "ART-VISITOR"],
        name_key: "CARDHOLDER_NAME",
    },
    Organisation {
        id: "ORG-STADTWERKE-DE",
        company: "Stadtwerke Mühlheim GmbH",
        country: "DE",
        sites: &[("Königstraße 5", "80331", "München"), ("Große Straße 118", "50667", "Köln")],
        phone_prefix: "+49 89",
        offset: 3600,
        articles: &["ART-STAFF-MIFARE", "ART-CONTRACTOR"],
        name_key: "NAME",
    },
    Organisation {
        id: "ORG-POLITECH-PL",
        company: "Politechnika Łódzka",
        country: "PL",
        sites: &[("ul. Żeromskiego 116", "90-924", "Łódź")],
        phone_prefix: "+48 42",
        offset: 3600,
        articles: &["ART-STUDENT", "ART-STAFF-MIFARE"],
        name_key: "NAME",
    },
    Organisation {
        id: "ORG-HOTELLERIE-FR",
        company: "Hôtellerie Côte d'Azur SA",
        country: "FR",
        sites: &[("12 rue de l'Église", "06000", "Nice")],
        phone_prefix: "+33 4",
        offset: 3600,
        articles: &["ART-STAFF-MIFARE"],
        name_key: "CARDHOLDER_NAME",
    },
    Organisation {
        id: "ORG-FJORDKRAFT-NO",
        company: "Fjordkraft Ålesund AS",
        country: "NO",
        sites: &[("Kongens gate 9", "6002", "Ålesund")],
        phone_prefix: "+47 70",
        offset: 3600,
        articles: &["ART-STAFF-MIFARE", "ART-VISITOR"],
        name_key: "NAME",
    },
];

const FIRST_NAMES: [&str; 16] = [
    "Åsa", "Björn", "Jürgen", "Zoë", "Łukasz", "Hélène", "Søren", "Małgorzata", "Renée", "Óscar", "Ingrid",
    "François", "Sigrún", "Dömötör", "Anna", "Mikael",
];
const LAST_NAMES: [&str; 16] = [
    "Öberg", "Ångström", "Groß", "Müller", "Wałęsa", "Lefèvre", "Nørgaard", "Żółkiewska", "Dubois", "Núñez",
    "Lindqvist", "Strauß", "Þórsdóttir", "Kovács", "Ek", "O'Brien",
];
const DEPARTMENTS: [&str; 5] = ["Akutmottagning", "Küche", "Öffentlichkeitsarbeit", "Réception", "IT"];

/// (articleId, accessoryId)
const ACCESSORIES: [(&str, &str); 4] = [
    ("ART-LANYARD-BLUE", "LANYARD"),
    ("ART-CARD-HOLDER", "HOLDER"),
    ("ART-YOYO-CLIP", "YOYO"),
    ("ART-KEY-FOB", "KEY_FOB"),
];

/// Ids the caller hands out (from the simulator's durable counters).
pub(crate) trait Ids {
    fn next_card_id(&mut self) -> String;
    fn next_shipment_id(&mut self) -> String;
}

/// One shipment: `cards` requests to one address of one organisation.
/// `wire`: where NGOC's own forms replace the contract's (see [`WireForms`]).
pub(crate) fn shipment(
    rng: &mut impl Rng,
    ids: &mut impl Ids,
    cards: usize,
    accessory_rate: f64,
    wire: &WireForms,
    now: DateTime<Utc>,
) -> Vec<ExternalProductionData> {
    let org = ORGANISATIONS.choose(rng).unwrap_or(&ORGANISATIONS[0]);
    let &(street, postal, city) = org.sites.choose(rng).unwrap_or(&org.sites[0]);
    let shipment_id = ids.next_shipment_id();
    // Some shipments go to a named recipient, others only to the company's mail room.
    let recipient = rng.random_bool(0.7).then(|| person(rng));
    let address = Address {
        address_one: street.to_owned(),
        address_two: rng.random_bool(0.2).then(|| format!("Plan {}", rng.random_range(1..6))),
        postal_code: postal.to_owned(),
        city: city.to_owned(),
        country_code: org.country.to_owned(),
        recipient_phone: recipient.as_ref().map(|_| format!("{} {:03} {:02} {:02}", org.phone_prefix, rng.random_range(100..999), rng.random_range(0..99), rng.random_range(0..99))),
        recipient,
        company_name: Some(org.company.to_owned()),
    };
    let offset = FixedOffset::east_opt(org.offset).unwrap_or(Utc.fix());
    // Ordered a little before it reaches us, in the organisation's time zone, whole seconds.
    let ordered_at = now - chrono::Duration::seconds(rng.random_range(5..3_600));
    let ordered = DateTime::from_timestamp(ordered_at.timestamp(), 0).unwrap_or(now).with_timezone(&offset);
    let ordered: ReceivedTime = if wire.offsetless_times {
        // UTC wall-clock time with nine fraction digits and no offset; Cardbench reads it in its
        // configured zone (UTC by default).
        let text = ordered_at.naive_utc().format("%Y-%m-%dT%H:%M:%S%.9f").to_string();
        ReceivedTime::parse(&text, &ReceivedZone::utc()).unwrap_or_else(|_| ordered.into())
    } else {
        ordered.into()
    };
    (0..cards.max(1))
        .map(|_| ExternalProductionData {
            organisation_id: org.id.to_owned(),
            shipment_id: shipment_id.clone(),
            ordered: ordered.clone(),
            address: address.clone(),
            card: card(rng, ids, org, wire.translation_fields),
            accessories: if rng.random_bool(accessory_rate) { accessories(rng) } else { Vec::new() },
        })
        .collect()
}

fn person(rng: &mut impl Rng) -> String {
    let first = FIRST_NAMES.choose(rng).unwrap_or(&FIRST_NAMES[0]);
    let last = LAST_NAMES.choose(rng).unwrap_or(&LAST_NAMES[0]);
    format!("{first} {last}")
}

fn card(rng: &mut impl Rng, ids: &mut impl Ids, org: &Organisation, translation_fields: bool) -> CardRequest {
    let mut elements = IndexMap::new();
    elements.insert(org.name_key.to_owned(), person(rng));
    elements.insert("EMPLOYEE_NO".to_owned(), format!("{:06}", rng.random_range(1..999_999)));
    if rng.random_bool(0.4) {
        let department = DEPARTMENTS.choose(rng).unwrap_or(&DEPARTMENTS[0]);
        elements.insert("DEPARTMENT".to_owned(), (*department).to_owned());
    }
    elements.insert("VALID_TO".to_owned(), format!("{}-{:02}", rng.random_range(2027..2031), rng.random_range(1..13)));
    // Mostly the chip UID; sometimes also a printed serial; a few cards (visitor cards without
    // a chip the partner reads) expect nothing.
    // NGOC's own reports name the UID by its translations, one per byte order.
    let uid: &[&str] = if translation_fields { &["TRANSLATION_MIFARE_HEX_MSB", "TRANSLATION_MIFARE_HEX_LSB"] } else { &["MIFARE_UID"] };
    let roll: f64 = rng.random();
    let mut expected: Vec<String> = if roll < 0.9 { uid.iter().map(|f| (*f).to_owned()).collect() } else { Vec::new() };
    if (0.75..0.9).contains(&roll) {
        expected.push("PRINT_SERIAL".to_owned());
    }
    CardRequest {
        article_id: (*org.articles.choose(rng).unwrap_or(&org.articles[0])).to_owned(),
        card_id: ids.next_card_id(),
        card_elements: elements,
        expected_report_data_fields: expected,
        expected_external_report_data_fields: Vec::new(),
    }
}

fn accessories(rng: &mut impl Rng) -> Vec<Accessory> {
    let n = rng.random_range(1..=2);
    ACCESSORIES
        .choose_multiple(rng, n)
        .map(|(article, accessory)| Accessory {
            article_id: (*article).to_owned(),
            accessory_id: (*accessory).to_owned(),
            quantity: rng.random_range(1..=3),
        })
        .collect()
}

/// The same card with different content: what NGOC sends when a request is edited and re-sent.
pub(crate) fn conflicting_version(rng: &mut impl Rng, original: &ExternalProductionData) -> ExternalProductionData {
    let mut changed = original.clone();
    let name_key = changed.card.card_elements.keys().next().cloned().unwrap_or_else(|| "NAME".to_owned());
    let mut name = person(rng);
    if changed.card.card_elements.get(&name_key) == Some(&name) {
        name.push_str(" Jr.");
    }
    changed.card.card_elements.insert(name_key, name);
    changed
}
