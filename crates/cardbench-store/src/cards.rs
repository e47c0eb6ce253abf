//! `cards`: the worklist. One row per requested card with its state in the workflow.

use cardbench_protocol::ExternalProductionData;
use crate::db::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};

/// Where a card stands. The workflow owns the transitions; this is only the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardStatus {
    Received,
    ReadoutsCaptured,
    /// CARD_PRODUCED queued; awaiting REPORT_OK.
    Produced,
    ReportOk,
    /// NGOC answered CARD_PRODUCED with ERROR: fix the readouts and produce again.
    ReportError,
    /// In a parcel; SHIPPED queued, awaiting SHIPPED_OK.
    Shipped,
    ShippedOk,
    /// NGOC answered the parcel's SHIPPED with ERROR.
    ShipError,
    /// The partner refused the request (EXTERNAL_PRODUCTION_ERROR sent): off the worklist and out
    /// of its shipment, until NGOC sends the card again with new content.
    Refused,
}

impl CardStatus {
    pub const ALL: [CardStatus; 9] = [
        CardStatus::Received,
        CardStatus::ReadoutsCaptured,
        CardStatus::Produced,
        CardStatus::ReportOk,
        CardStatus::ReportError,
        CardStatus::Shipped,
        CardStatus::ShippedOk,
        CardStatus::ShipError,
        CardStatus::Refused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CardStatus::Received => "received",
            CardStatus::ReadoutsCaptured => "readouts_captured",
            CardStatus::Produced => "produced",
            CardStatus::ReportOk => "report_ok",
            CardStatus::ReportError => "report_error",
            CardStatus::Shipped => "shipped",
            CardStatus::ShippedOk => "shipped_ok",
            CardStatus::ShipError => "ship_error",
            CardStatus::Refused => "refused",
        }
    }

    pub fn parse(text: &str) -> Option<CardStatus> {
        CardStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for CardStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A card with everything the workflow needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardRow {
    pub card_id: String,
    pub organisation_id: String,
    pub shipment_id: String,
    pub article_id: String,
    pub holder: Option<String>,
    pub ordered_at: String,
    pub received_at: String,
    pub request_inbox_id: i64,
    pub request: ExternalProductionData,
    pub status: CardStatus,
    pub produced_message_id: Option<String>,
    pub produced_at: Option<String>,
    pub report_ok_at: Option<String>,
    pub parcel_id: Option<i64>,
    pub shipped_ok_at: Option<String>,
    pub last_error_code: Option<String>,
    pub last_error_details: Option<String>,
    pub spoil_count: u32,
    pub updated_at: String,
}

pub fn insert(conn: &Connection, request: &ExternalProductionData, inbox_id: i64, received_at: &str) -> Result<()> {
    insert_serialised(conn, request, &serialise_request(request)?, inbox_id, received_at)
}

/// The request as `request_json` stores it.
pub fn serialise_request(request: &ExternalProductionData) -> Result<String> {
    serde_json::to_string(request).map_err(|source| StoreError::Json { what: "card request", source })
}

/// [`insert`] with `request_json` already made by [`serialise_request`] from `request`, so a
/// caller can do that before its transaction (the ingest does, while the previous batch commits).
pub fn insert_serialised(
    conn: &Connection,
    request: &ExternalProductionData,
    request_json: &str,
    inbox_id: i64,
    received_at: &str,
) -> Result<()> {
    write_request(
        conn,
        "INSERT INTO cards (card_id, organisation_id, shipment_id, article_id, holder, ordered_at, received_at,
                            request_inbox_id, request_json, status, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'received', ?7)",
        request,
        request_json,
        inbox_id,
        received_at,
    )?;
    insert_accessories(conn, request)
}

/// Runs `sql`, an insert or an update of a card from its request, with the request's columns as
/// ?1–?9 (cardId, organisationId, shipmentId, articleId, holder, ordered, received, inbox row,
/// request JSON): one list, so a new card and a re-received one are written alike.
fn write_request(
    conn: &Connection,
    sql: &str,
    request: &ExternalProductionData,
    request_json: &str,
    inbox_id: i64,
    received_at: &str,
) -> Result<()> {
    conn.prepare_cached(sql)?.execute(params![
        request.card.card_id,
        request.organisation_id,
        request.shipment_id,
        request.card.article_id,
        request.holder_name(),
        crate::time::format(request.ordered.to_utc()),
        received_at,
        inbox_id,
        request_json,
    ])?;
    Ok(())
}

/// The accessories the request orders with its card.
fn insert_accessories(conn: &Connection, request: &ExternalProductionData) -> Result<()> {
    let mut acc = conn.prepare_cached(
        "INSERT INTO card_accessories (card_id, article_id, accessory_id, quantity) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for a in &request.accessories {
        acc.execute(params![request.card.card_id, a.article_id, a.accessory_id, a.quantity])?;
    }
    Ok(())
}

/// A refused card requested again with new content: the card takes the new request and starts
/// over as `received`. The row keeps its cardId (the inbox, outbox and audit rows of the refused
/// request stay its history); everything the old request decided is replaced or cleared.
pub fn receive_again(
    conn: &Connection,
    request: &ExternalProductionData,
    request_json: &str,
    inbox_id: i64,
    received_at: &str,
) -> Result<()> {
    write_request(
        conn,
        "UPDATE cards SET organisation_id = ?2, shipment_id = ?3, article_id = ?4, holder = ?5, ordered_at = ?6,
                          received_at = ?7, request_inbox_id = ?8, request_json = ?9, status = 'received',
                          produced_message_id = NULL, produced_at = NULL, report_ok_at = NULL, parcel_id = NULL,
                          shipped_ok_at = NULL, last_error_code = NULL, last_error_details = NULL, updated_at = ?7
         WHERE card_id = ?1",
        request,
        request_json,
        inbox_id,
        received_at,
    )?;
    conn.prepare_cached("DELETE FROM card_accessories WHERE card_id = ?1")?.execute([&request.card.card_id])?;
    insert_accessories(conn, request)?;
    crate::readouts::clear(conn, &request.card.card_id)?;
    Ok(())
}

const COLUMNS: &str = "card_id, organisation_id, shipment_id, article_id, holder, ordered_at, received_at, \
     request_inbox_id, request_json, status, produced_message_id, produced_at, report_ok_at, parcel_id, \
     shipped_ok_at, last_error_code, last_error_details, spoil_count, updated_at";

fn from_row(r: &Row<'_>) -> crate::db::Result<CardRow> {
    let request_json: String = r.get(8)?;
    let request = serde_json::from_str(&request_json)
        .map_err(|e| crate::db::DbError::conversion("request_json", e))?;
    let status: String = r.get(9)?;
    let status = CardStatus::parse(&status).ok_or_else(|| {
        crate::db::DbError::conversion("status", format!("unknown status {status}"))
    })?;
    Ok(CardRow {
        card_id: r.get(0)?,
        organisation_id: r.get(1)?,
        shipment_id: r.get(2)?,
        article_id: r.get(3)?,
        holder: r.get(4)?,
        ordered_at: r.get(5)?,
        received_at: r.get(6)?,
        request_inbox_id: r.get(7)?,
        request,
        status,
        produced_message_id: r.get(10)?,
        produced_at: r.get(11)?,
        report_ok_at: r.get(12)?,
        parcel_id: r.get(13)?,
        shipped_ok_at: r.get(14)?,
        last_error_code: r.get(15)?,
        last_error_details: r.get(16)?,
        spoil_count: r.get(17)?,
        updated_at: r.get(18)?,
    })
}

pub fn get(conn: &Connection, card_id: &str) -> Result<Option<CardRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM cards WHERE card_id = ?1"))?
        .query_row([card_id], from_row)
        .optional()?)
}

pub fn by_produced_message_id(conn: &Connection, message_id: &str) -> Result<Option<CardRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM cards WHERE produced_message_id = ?1"))?
        .query_row([message_id], from_row)
        .optional()?)
}

pub fn in_shipment(conn: &Connection, shipment_id: &str) -> Result<Vec<CardRow>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM cards WHERE shipment_id = ?1 ORDER BY received_at, card_id"))?;
    let rows = stmt.query_map([shipment_id], from_row)?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}

/// The state-changing columns the workflow sets together.
#[derive(Debug, Clone, Default)]
pub struct StatusChange<'a> {
    pub produced_message_id: Option<Option<&'a str>>,
    pub produced_at: Option<Option<&'a str>>,
    pub report_ok_at: Option<Option<&'a str>>,
    pub parcel_id: Option<Option<i64>>,
    pub shipped_ok_at: Option<Option<&'a str>>,
    /// (code, details); Some(None) clears.
    pub last_error: Option<Option<(&'a str, &'a str)>>,
    pub spoiled: bool,
}

/// Sets `status` and the given columns (`None` = leave as is, `Some(None)` = clear).
pub fn set_status(conn: &Connection, card_id: &str, status: CardStatus, change: &StatusChange<'_>, at: &str) -> Result<()> {
    let (set_error, code, details) = match change.last_error {
        None => (false, None, None),
        Some(None) => (true, None, None),
        Some(Some((c, d))) => (true, Some(c), Some(d)),
    };
    conn.prepare_cached(
        "UPDATE cards SET status = ?2, updated_at = ?3,
             produced_message_id = CASE WHEN ?4 THEN ?5 ELSE produced_message_id END,
             produced_at = CASE WHEN ?6 THEN ?7 ELSE produced_at END,
             report_ok_at = CASE WHEN ?8 THEN ?9 ELSE report_ok_at END,
             parcel_id = CASE WHEN ?10 THEN ?11 ELSE parcel_id END,
             shipped_ok_at = CASE WHEN ?12 THEN ?13 ELSE shipped_ok_at END,
             last_error_code = CASE WHEN ?14 THEN ?15 ELSE last_error_code END,
             last_error_details = CASE WHEN ?14 THEN ?16 ELSE last_error_details END,
             spoil_count = spoil_count + ?17
         WHERE card_id = ?1",
    )?
    .execute(params![
        card_id,
        status.as_str(),
        at,
        change.produced_message_id.is_some(),
        change.produced_message_id.flatten(),
        change.produced_at.is_some(),
        change.produced_at.flatten(),
        change.report_ok_at.is_some(),
        change.report_ok_at.flatten(),
        change.parcel_id.is_some(),
        change.parcel_id.flatten(),
        change.shipped_ok_at.is_some(),
        change.shipped_ok_at.flatten(),
        set_error,
        code,
        details,
        i64::from(change.spoiled),
    ])?;
    Ok(())
}

/// A worklist line: what the list shows, without the full request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorklistRow {
    pub card_id: String,
    pub organisation_id: String,
    pub shipment_id: String,
    pub article_id: String,
    pub holder: Option<String>,
    pub status: CardStatus,
    pub received_at: String,
    pub updated_at: String,
    /// The station holding the card now, if any ([`crate::claims`]).
    #[serde(default)]
    pub taken: Option<crate::claims::Claim>,
}

/// Where the next page starts: the last row of the previous one (keyset paging, so page 10,000
/// costs what page 1 costs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorklistCursor {
    pub received_at: String,
    pub card_id: String,
    /// The last row's value of the sort column, when the list is sorted by a column other than
    /// `received_at` or `card_id` (`None` also for a card without a holder name).
    #[serde(default)]
    pub key: Option<String>,
}

/// The column the worklist is sorted by. Ties go by `received_at`, then `card_id` (holder
/// names: by `card_id`), so the order is total and a page never skips or repeats a card.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortColumn {
    /// Oldest first: the order work is done in.
    #[default]
    Received,
    Card,
    Organisation,
    Shipment,
    Article,
    Holder,
    Status,
}

impl SortColumn {
    pub const ALL: [SortColumn; 7] = [
        SortColumn::Received,
        SortColumn::Card,
        SortColumn::Organisation,
        SortColumn::Shipment,
        SortColumn::Article,
        SortColumn::Holder,
        SortColumn::Status,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortColumn::Received => "received",
            SortColumn::Card => "card",
            SortColumn::Organisation => "organisation",
            SortColumn::Shipment => "shipment",
            SortColumn::Article => "article",
            SortColumn::Holder => "holder",
            SortColumn::Status => "status",
        }
    }

    pub fn parse(text: &str) -> Option<SortColumn> {
        SortColumn::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }

    /// The leading column of the keyset other than `received_at, card_id`, as SQL.
    fn key_sql(self) -> Option<&'static str> {
        match self {
            SortColumn::Received | SortColumn::Card => None,
            SortColumn::Organisation => Some("organisation_id"),
            SortColumn::Shipment => Some("shipment_id"),
            SortColumn::Article => Some("article_id"),
            SortColumn::Holder => Some("holder COLLATE NOCASE"),
            SortColumn::Status => Some("status"),
        }
    }

    /// This column's value of a row, as a cursor keeps it.
    fn key_of(self, r: &WorklistRow) -> Option<String> {
        match self {
            SortColumn::Received | SortColumn::Card => None,
            SortColumn::Organisation => Some(r.organisation_id.clone()),
            SortColumn::Shipment => Some(r.shipment_id.clone()),
            SortColumn::Article => Some(r.article_id.clone()),
            SortColumn::Holder => r.holder.clone(),
            SortColumn::Status => Some(r.status.as_str().to_owned()),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WorklistFilter {
    /// Empty: any status.
    #[serde(default)]
    pub statuses: Vec<CardStatus>,
    pub organisation_id: Option<String>,
    pub shipment_id: Option<String>,
    pub article_id: Option<String>,
    /// Prefix of a cardId or shipmentId, and of the holder name when `search_holder`.
    pub search: Option<String>,
    /// Whether `search` also matches a holder-name prefix (case-insensitive). Off where names are
    /// shown masked: a search that still matched names would tell, letter by letter, the name
    /// the screen hides.
    #[serde(default)]
    pub search_holder: bool,
    pub received_from: Option<String>,
    pub received_to: Option<String>,
    /// Sorted by this column (default: received, oldest first); `descending` turns it round.
    #[serde(default)]
    pub sort: SortColumn,
    #[serde(default)]
    pub descending: bool,
    /// A cursor of the same sort (a page's `next`).
    pub after: Option<WorklistCursor>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorklistPage {
    pub rows: Vec<WorklistRow>,
    /// Present when more rows follow.
    pub next: Option<WorklistCursor>,
}

/// Escapes LIKE wildcards so a search for `A_1` finds `A_1`, not `AB1`.
fn like_prefix(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Rows of the sort order a page may read before filtering first and sorting what is left is
/// the cheaper way (see [`worklist_query`]).
const ORDERED_SCAN_BUDGET: u32 = 5000;

/// The index that holds a sort's keyset in order (migration 12; the primary key's for cardId).
fn sort_index(sort: SortColumn) -> &'static str {
    match sort {
        SortColumn::Received => "cards_received_card",
        SortColumn::Card => "sqlite_autoindex_cards_1",
        SortColumn::Organisation => "cards_organisation_received_card",
        SortColumn::Shipment => "cards_shipment_received_card",
        SortColumn::Article => "cards_article_received_card",
        SortColumn::Holder => "cards_holder_card",
        SortColumn::Status => "cards_status_received_card",
    }
}

/// The worklist query of `f` as it will run: SQL, its arguments, and the page size.
///
/// With only broad filters (statuses, organisation, article, dates), SQLite's planner tends to
/// pick the filter's index and sort every match (a million cards, two statuses: 200,000 rows
/// sorted per page) although reading the sort's own index in order would fill the page after a
/// few hundred rows. So when the filters are broad, a probe reads at most
/// [`ORDERED_SCAN_BUDGET`] rows of the sort order and counts the matches: if the page would be
/// full within 20 budgets at that rate, it is read in order from the sort's index; if not, the
/// matches are rare (under 1 in 1,000 rows) and the planner's way (filter first, sort the few) is
/// the cheap one.
fn worklist_query(conn: &Connection, f: &WorklistFilter) -> Result<PageSql> {
    let broad = f.shipment_id.is_none()
        && f.search.as_deref().is_none_or(|s| s.trim().is_empty())
        && (!f.statuses.is_empty() || f.organisation_id.is_some() || f.article_id.is_some() || f.received_from.is_some() || f.received_to.is_some());
    let planned = worklist_sql(f, None);
    // SQLite's planner only: PostgreSQL weighs an ordered index scan against a sort by itself.
    if broad && conn.engine() == crate::db::Engine::Sqlite && sorts_all_matches(conn, &planned.sql, &planned.args)? {
        let probe = worklist_sql(f, Some(ORDERED_SCAN_BUDGET));
        let (matches, wanted): (i64, i64) =
            conn.prepare_cached(&probe.sql)?.query_row(crate::db::params_from_iter(probe.args.iter()), |r| Ok((r.get(0)?, r.get(1)?)))?;
        if matches > 0 && matches.saturating_mul(20) >= wanted {
            let sql = planned.sql.replacen("FROM cards ", &format!("FROM cards INDEXED BY {} ", sort_index(f.sort)), 1);
            return Ok(PageSql { sql, ..planned });
        }
    }
    Ok(planned)
}

/// A worklist query: its SQL, its arguments, the page size, and the ORDER BY terms (column
/// names of the selected row, so a query wrapped around it can keep the order).
struct PageSql {
    sql: String,
    args: Vec<rusqlite::types::Value>,
    limit: u32,
    order: String,
}

/// Whether SQLite would sort the matches of `sql` itself (its plan reads no index in the order
/// asked). The plan of a query text does not change between calls: the statement is cached.
fn sorts_all_matches(conn: &Connection, sql: &str, args: &[rusqlite::types::Value]) -> Result<bool> {
    let mut stmt = conn.prepare_cached(&format!("EXPLAIN QUERY PLAN {sql}"))?;
    let mut rows = stmt.query(crate::db::params_from_iter(args.iter()))?;
    while let Some(row) = rows.next()? {
        if row.get::<_, String>(3)?.contains("TEMP B-TREE FOR ORDER BY") {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The worklist query of `f`. With `probe`, instead: how many of the first `probe` rows of the
/// sort order (after the cursor) match, and the page size + 1.
fn worklist_sql(f: &WorklistFilter, probe: Option<u32>) -> PageSql {
    use rusqlite::types::Value;
    let limit = f.limit.unwrap_or(100).clamp(1, 1000);
    // Only the filters given become SQL, so SQLite can pick the index that fits them (a static
    // `?1 IS NULL OR ...` query hides every index behind the ORs).
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    let mut arg = |v: Value| {
        args.push(v);
        format!("?{}", args.len())
    };
    if !f.statuses.is_empty() {
        let marks: Vec<String> = f.statuses.iter().map(|s| arg(Value::Text(s.as_str().into()))).collect();
        clauses.push(format!("status IN ({})", marks.join(", ")));
    }
    if let Some(org) = &f.organisation_id {
        clauses.push(format!("organisation_id = {}", arg(Value::Text(org.clone()))));
    }
    if let Some(shipment) = &f.shipment_id {
        clauses.push(format!("shipment_id = {}", arg(Value::Text(shipment.clone()))));
    }
    if let Some(search) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        // Identifiers: an exact-case range on their own index. Names: a case-insensitive prefix on
        // the NOCASE index (LIKE uses it because the pattern has no leading wildcard).
        let low = arg(Value::Text(search.to_owned()));
        let high = arg(Value::Text(format!("{search}\u{10FFFF}")));
        let ids = format!("card_id BETWEEN {low} AND {high} OR shipment_id BETWEEN {low} AND {high}");
        clauses.push(if f.search_holder {
            let like = arg(Value::Text(like_prefix(search)));
            format!("({ids} OR holder LIKE {like} ESCAPE '\\')")
        } else {
            format!("({ids})")
        });
    }
    if let Some(from) = &f.received_from {
        clauses.push(format!("received_at >= {}", arg(Value::Text(from.clone()))));
    }
    if let Some(to) = &f.received_to {
        clauses.push(format!("received_at < {}", arg(Value::Text(to.clone()))));
    }
    if let Some(article) = &f.article_id {
        clauses.push(format!("article_id = {}", arg(Value::Text(article.clone()))));
    }
    // The keyset: the sort column's value (when it is not received_at or card_id), then the
    // tie-breaks. Each list of columns has an index of exactly those columns (migration 12).
    let (cmp, dir) = if f.descending { ("<", "DESC") } else { (">", "ASC") };
    let keyset: &[&str] = match f.sort {
        SortColumn::Received => &["received_at", "card_id"],
        SortColumn::Card => &["card_id"],
        SortColumn::Holder => &["holder COLLATE NOCASE", "card_id"],
        _ => &["received_at", "card_id"],
    };
    let lead = f.sort.key_sql().filter(|_| f.sort != SortColumn::Holder);
    let columns: Vec<&str> = lead.into_iter().chain(keyset.iter().copied()).collect();
    let mut keyset_clause = None;
    if let Some(c) = &f.after {
        let id = arg(Value::Text(c.card_id.clone()));
        keyset_clause = Some(match f.sort {
            SortColumn::Card => format!("card_id {cmp} {id}"),
            // A card may have no holder name: NULL sorts first, and compares to nothing.
            SortColumn::Holder => match (&c.key, f.descending) {
                (Some(k), false) => format!("(holder COLLATE NOCASE, card_id) > ({} COLLATE NOCASE, {id})", arg(Value::Text(k.clone()))),
                (Some(k), true) => {
                    format!("((holder COLLATE NOCASE, card_id) < ({} COLLATE NOCASE, {id}) OR holder IS NULL)", arg(Value::Text(k.clone())))
                }
                (None, false) => format!("((holder IS NULL AND card_id > {id}) OR holder IS NOT NULL)"),
                (None, true) => format!("(holder IS NULL AND card_id < {id})"),
            },
            _ => {
                let at = arg(Value::Text(c.received_at.clone()));
                match lead {
                    Some(col) => {
                        let key = arg(Value::Text(c.key.clone().unwrap_or_default()));
                        format!("({col}, received_at, card_id) {cmp} ({key}, {at}, {id})")
                    }
                    None => format!("(received_at, card_id) {cmp} ({at}, {id})"),
                }
            }
        });
    }
    // NULLs (a card without a holder name) first ascending, last descending: SQLite's own order,
    // spelled out for PostgreSQL, whose default is the other way round. Only for the holder, the
    // one column that may be NULL: PostgreSQL reads an index in a page's order only when the
    // NULLs' place matches too (its holder index is built NULLS FIRST, migration 17; the others
    // in its default order), and otherwise sorts the whole table for every page.
    let nulls = if f.descending { " NULLS LAST" } else { " NULLS FIRST" };
    let order_sql = columns
        .iter()
        .map(|c| format!("{c} {dir}{}", if c.starts_with("holder") { nulls } else { "" }))
        .collect::<Vec<_>>()
        .join(", ");
    let limit_mark = arg(Value::Integer(i64::from(limit) + 1));
    let where_of = |clauses: &[String]| if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
    if let Some(budget) = probe {
        let sql = format!(
            "SELECT COUNT(*), {limit_mark} FROM (
                 SELECT card_id, organisation_id, shipment_id, article_id, holder, status, received_at
                 FROM cards INDEXED BY {index} {keyset}
                 ORDER BY {order_sql}
                 LIMIT {budget}
             ) {filters}",
            index = sort_index(f.sort),
            keyset = where_of(&keyset_clause.into_iter().collect::<Vec<_>>()),
            filters = where_of(&clauses),
        );
        return PageSql { sql, args, limit, order: order_sql };
    }
    clauses.extend(keyset_clause);
    let where_sql = where_of(&clauses);
    let sql = format!(
        "SELECT card_id, organisation_id, shipment_id, article_id, holder, status, received_at, updated_at
         FROM cards {where_sql}
         ORDER BY {order_sql}
         LIMIT {limit_mark}"
    );
    PageSql { sql, args, limit, order: order_sql }
}

/// How SQLite runs the worklist query of `f` (EXPLAIN QUERY PLAN details), for tests that keep
/// each sort on an index.
pub fn worklist_plan(conn: &Connection, f: &WorklistFilter) -> Result<Vec<String>> {
    let PageSql { sql, args, .. } = worklist_query(conn, f)?;
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
    let rows = stmt.query_map(crate::db::params_from_iter(args.iter()), |r| r.get::<_, String>(3))?;
    Ok(rows.collect::<crate::db::Result<Vec<_>>>()?)
}

pub fn worklist(conn: &Connection, f: &WorklistFilter) -> Result<WorklistPage> {
    let PageSql { sql: page, mut args, limit, order } = worklist_query(conn, f)?;
    // The cards in hand (a few rows however long the worklist) joined to the page's rows only:
    // the page's own query, and so its plan, stays what it was, and the page is one query, one
    // round trip to a floor's database. The claim's columns are renamed so the ORDER BY's bare
    // column names still name the page's.
    args.push(rusqlite::types::Value::Text(crate::time::now()));
    let sql = format!(
        "SELECT page.*, hand.station, hand.operator, hand.taken_at, hand.expires_at
         FROM ({page}) AS page
         LEFT JOIN (SELECT card_id AS held_card, station, operator, taken_at, expires_at
                    FROM card_claims WHERE expires_at > ?{now}) AS hand ON hand.held_card = page.card_id
         ORDER BY {order}",
        now = args.len(),
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(crate::db::params_from_iter(args.iter()), |r| {
        let status: String = r.get(5)?;
        let card_id: String = r.get(0)?;
        let taken = match r.get::<_, Option<String>>(8)? {
            Some(station) => Some(crate::claims::Claim {
                card_id: card_id.clone(),
                station,
                operator: r.get(9)?,
                taken_at: r.get(10)?,
                expires_at: r.get(11)?,
            }),
            None => None,
        };
        Ok(WorklistRow {
            card_id,
            organisation_id: r.get(1)?,
            shipment_id: r.get(2)?,
            article_id: r.get(3)?,
            holder: r.get(4)?,
            status: CardStatus::parse(&status).unwrap_or(CardStatus::Received),
            received_at: r.get(6)?,
            updated_at: r.get(7)?,
            taken,
        })
    })?;
    let mut rows = rows.collect::<crate::db::Result<Vec<_>>>()?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| WorklistCursor { received_at: r.received_at.clone(), card_id: r.card_id.clone(), key: f.sort.key_of(r) })
    } else {
        None
    };
    Ok(WorklistPage { rows, next })
}

/// Cards per status, for the dashboard and the CLI summary.
pub fn count_by_status(conn: &Connection) -> Result<Vec<(CardStatus, i64)>> {
    let mut stmt = conn.prepare_cached("SELECT status, COUNT(*) FROM cards GROUP BY status")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (status, n) = row?;
        if let Some(s) = CardStatus::parse(&status) {
            out.push((s, n));
        }
    }
    Ok(out)
}

