//! The packing slip: one per parcel (= one SHIPPED notification), A4, the recipient placed for a
//! DIN 5008 window envelope so the slip itself addresses the parcel.

use cardbench_protocol::{Accessory, Address};
use cardbench_store::{Connection, cards, parcels, shipments};
use serde::{Deserialize, Serialize};

use crate::barcode;
use crate::config::SlipConfig;
use crate::error::{DocumentError, Result};
use crate::layout::{Column, Flow, MARGIN_L, PAGE_W, MARGIN_R, Page, Table};

/// One card line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlipCard {
    pub card_id: String,
    pub article_id: String,
    /// The unmasked name; masking happens at render time from [`SlipConfig::holder_display`].
    pub holder: Option<String>,
}

/// Everything a packing slip shows, independent of where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackingSlipData {
    pub parcel_id: i64,
    /// The SHIPPED messageId: what NGOC knows this parcel by.
    pub message_id: String,
    pub shipment_id: String,
    pub organisation_id: String,
    /// When the parcel was composed (RFC 3339 UTC, as stored).
    pub created_at: String,
    pub carrier: Option<String>,
    pub tracking_id: Option<String>,
    pub address: Option<Address>,
    pub cards: Vec<SlipCard>,
    pub accessories: Vec<Accessory>,
}

impl PackingSlipData {
    /// Reads a parcel with its cards, accessories and the delivery address (which is only in the
    /// card requests: NGOC sends it with every card of a shipment).
    pub fn load(conn: &Connection, parcel_id: i64) -> Result<PackingSlipData> {
        let parcel = parcels::get(conn, parcel_id)?
            .ok_or_else(|| DocumentError::NotFound { what: "parcel", id: parcel_id.to_string() })?;
        let shipment = shipments::get(conn, &parcel.shipment_id)?;
        let mut slip_cards = Vec::with_capacity(parcel.cards.len());
        let mut address = None;
        for card_id in &parcel.cards {
            let card = cards::get(conn, card_id)?
                .ok_or_else(|| DocumentError::NotFound { what: "card", id: card_id.clone() })?;
            if address.is_none() {
                address = Some(card.request.address.clone());
            }
            slip_cards.push(SlipCard { card_id: card.card_id, article_id: card.article_id, holder: card.holder });
        }
        if address.is_none() {
            // An accessories-only parcel: any card of the shipment carries the address.
            address = cards::in_shipment(conn, &parcel.shipment_id)?.into_iter().next().map(|c| c.request.address);
        }
        Ok(PackingSlipData {
            parcel_id: parcel.id,
            message_id: parcel.message_id,
            organisation_id: shipment.map(|s| s.organisation_id).unwrap_or_default(),
            shipment_id: parcel.shipment_id,
            created_at: parcel.created_at,
            carrier: parcel.carrier,
            tracking_id: parcel.tracking_id,
            address,
            cards: slip_cards,
            accessories: parcel.accessories,
        })
    }

    /// The slips of every parcel of a shipment, oldest first.
    pub fn load_shipment(conn: &Connection, shipment_id: &str) -> Result<Vec<PackingSlipData>> {
        parcels::for_shipment(conn, shipment_id)?.into_iter().map(|p| PackingSlipData::load(conn, p.id)).collect()
    }
}

/// The address as lines for the window, in the order the post reads them.
fn address_lines(address: Option<&Address>, home_country: Option<&str>) -> Vec<String> {
    let Some(a) = address else {
        return vec!["(no address on file)".into()];
    };
    let mut lines = Vec::new();
    for l in [a.company_name.as_deref(), a.recipient.as_deref(), Some(a.address_one.as_str()), a.address_two.as_deref()]
        .into_iter()
        .flatten()
    {
        if !l.trim().is_empty() {
            lines.push(l.trim().to_owned());
        }
    }
    lines.push(format!("{} {}", a.postal_code.trim(), a.city.trim()));
    let domestic = home_country.is_some_and(|h| h.eq_ignore_ascii_case(a.country_code.trim()));
    if !domestic {
        lines.push(a.country_code.trim().to_uppercase());
    }
    lines
}

/// DIN 5008 window (form B) on A4: 20 mm from the left, 45 mm from the top, 85 × 45 mm; its top
/// 17.7 mm hold the return line, the 27.3 mm below it up to six address lines.
const WINDOW_X: f32 = 20.0;
const WINDOW_Y: f32 = 45.0;
const WINDOW_W: f32 = 85.0;
const INFO_X: f32 = 125.0;
const INFO_VALUE_X: f32 = 150.0;

pub fn render_packing_slip(data: &PackingSlipData, config: &SlipConfig) -> Result<Vec<u8>> {
    let mut card_rows = Vec::with_capacity(data.cards.len());
    for (i, c) in data.cards.iter().enumerate() {
        card_rows.push(vec![
            (i + 1).to_string(),
            c.card_id.clone(),
            c.article_id.clone(),
            config.holder_display.apply(c.holder.as_deref()),
        ]);
    }
    let mut tables = vec![Table {
        title: "Cards".into(),
        columns: vec![
            Column::right("#", 12.0),
            Column::left("Card ID", 60.0),
            Column::left("Article", 38.0),
            Column::left("Cardholder", 65.0),
        ],
        rows: card_rows,
        total: Some(vec![String::new(), format!("Total cards: {}", data.cards.len()), String::new(), String::new()]),
    }];
    if !data.accessories.is_empty() {
        let total: u64 = data.accessories.iter().map(|a| u64::from(a.quantity)).sum();
        tables.push(Table {
            title: "Accessories".into(),
            columns: vec![
                Column::right("#", 12.0),
                Column::left("Accessory", 60.0),
                Column::left("Article", 38.0),
                Column::right("Quantity", 65.0),
            ],
            rows: data
                .accessories
                .iter()
                .enumerate()
                .map(|(i, a)| vec![(i + 1).to_string(), a.accessory_id.clone(), a.article_id.clone(), a.quantity.to_string()])
                .collect(),
            total: Some(vec![String::new(), "Total accessories".into(), String::new(), total.to_string()]),
        });
    }

    let bars = barcode::code128(&data.shipment_id);
    if let Err(e) = &bars {
        // The slip still prints (the packer needs it); only the scan convenience is lost.
        tracing::warn!(parcel = data.parcel_id, "no barcode on packing slip: {e}");
    }
    let address = address_lines(data.address.as_ref(), config.home_country.as_deref());
    let date = cardbench_store::time::display_date(&data.created_at);
    let footer = format!("Shipment {} · parcel {} · {}", data.shipment_id, data.parcel_id, data.message_id);
    let flow = Flow { first_top: 122.0, next_top: 30.0 };
    flow.render(&format!("Packing slip {}", data.shipment_id), &footer, &tables, |page, n, _of| {
        fold_marks(page);
        if n == 1 {
            first_page_header(page, data, config, &address, &date, bars.as_ref().ok());
        } else {
            page.text(MARGIN_L, 15.0, 10.0, &format!("Packing slip · shipment {}", data.shipment_id));
            page.text_right(PAGE_W - MARGIN_R, 15.0, 10.0, &format!("parcel {} · {date}", data.parcel_id));
            page.hline(18.0, 0.5);
        }
    })
}

/// Fold marks at 105 and 210 mm and the punch mark at 148.5 mm (DIN 5008 form B), so the slip
/// folds into the window envelope with the address in the window.
fn fold_marks(page: &mut Page<'_>) {
    page.line(4.0, 105.0, 8.0, 105.0, 0.3);
    page.line(4.0, 210.0, 8.0, 210.0, 0.3);
    page.line(4.0, 148.5, 10.0, 148.5, 0.3);
}

fn first_page_header(
    page: &mut Page<'_>,
    data: &PackingSlipData,
    config: &SlipConfig,
    address: &[String],
    date: &str,
    bars: Option<&barcode::Bars>,
) {
    page.text(MARGIN_L, 22.0, 18.0, "Packing slip");
    page.text_fit(INFO_X, 22.0, 12.0, &config.sender_name, PAGE_W - MARGIN_R - INFO_X, crate::layout::Align::Right);

    // Window: return line (small, underlined), then the address.
    if !config.sender_line.is_empty() {
        let line = page.fit(&config.sender_line, 7.0, WINDOW_W - 5.0);
        page.text(WINDOW_X + 5.0, WINDOW_Y + 14.0, 7.0, &line);
        let w = page.width(&line, 7.0);
        page.line(WINDOW_X + 5.0, WINDOW_Y + 15.0, WINDOW_X + 5.0 + w, WINDOW_Y + 15.0, 0.3);
    }
    let mut y = WINDOW_Y + 17.7 + 4.5;
    for line in address.iter().take(6) {
        page.text_fit(WINDOW_X + 5.0, y, 10.0, line, WINDOW_W - 8.0, crate::layout::Align::Left);
        y += 4.3;
    }

    // Reference block to the right of the window.
    let mut y = WINDOW_Y + 5.0;
    let mut info = |label: &str, value: &str| {
        page.text(INFO_X, y, 8.0, label);
        page.text_fit(INFO_VALUE_X, y, 9.0, value, PAGE_W - MARGIN_R - INFO_VALUE_X, crate::layout::Align::Left);
        y += 5.0;
    };
    info("Date", date);
    info("Organisation", &data.organisation_id);
    info("Shipment", &data.shipment_id);
    info("Parcel", &data.parcel_id.to_string());
    if let Some(carrier) = data.carrier.as_deref().filter(|c| !c.is_empty()) {
        info("Carrier", carrier);
    }
    if let Some(tracking) = data.tracking_id.as_deref().filter(|t| !t.is_empty()) {
        info("Tracking", tracking);
    }

    // The shipmentId as Code128 under the reference block, human-readable below.
    let bar_y = 88.0;
    if let Some(bars) = bars {
        let w = barcode::draw(page, bars, INFO_X, bar_y, PAGE_W - MARGIN_R - INFO_X, 14.0);
        let text_w = page.width(&data.shipment_id, 9.0);
        page.text(INFO_X + (w - text_w).max(0.0) / 2.0, bar_y + 18.0, 9.0, &data.shipment_id);
    } else {
        page.text(INFO_X, bar_y + 8.0, 9.0, &data.shipment_id);
    }

    let items = data.cards.len();
    let accessories: u64 = data.accessories.iter().map(|a| u64::from(a.quantity)).sum();
    page.text(MARGIN_L, 112.0, 9.0, &format!("This parcel holds {items} card(s) and {accessories} accessory item(s)."));
    page.hline(114.5, 0.5);
}
