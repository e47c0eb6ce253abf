//! The worklist: a page of cards by filter and sort, masked as the settings say.

use std::time::Instant;

use cardbench_store::cards::{CardStatus, SortColumn, WorklistCursor, WorklistFilter};

use cardbench_workflow::views::period::filter_bounds;

use crate::dto::*;
use crate::error::AppError;
use crate::station::{Result, Station, blank_to_none};

impl Station {
    pub fn worklist(&self, q: WorklistQuery) -> Result<WorklistPage> {
        let (received_from, received_to) =
            filter_bounds(q.received_from.as_deref(), q.received_to.as_deref()).map_err(|e| AppError::Invalid(e.to_string()))?;
        let filter = WorklistFilter {
            statuses: q.statuses.into_iter().map(CardStatus::from).collect(),
            organisation_id: blank_to_none(q.organisation_id),
            shipment_id: blank_to_none(q.shipment_id),
            article_id: blank_to_none(q.article_id),
            search: blank_to_none(q.search),
            search_holder: cardbench_workflow::cardholder::search_matches_holder(self.mask()),
            received_from,
            received_to,
            sort: q.sort.map(SortColumn::from).unwrap_or_default(),
            descending: q.descending,
            after: q.after.map(|c| WorklistCursor { received_at: c.received_at, card_id: c.card_id, key: c.key }),
            limit: q.limit,
        };
        let mask = self.mask();
        cardbench_workflow::cardholder::check_sort(filter.sort, mask).map_err(AppError::Invalid)?;
        let started = Instant::now();
        let page = self.workflow.worklist(&filter)?;
        let query_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(WorklistPage {
            rows: page.rows.into_iter().map(|r| WorklistItem::from_row(r, mask)).collect(),
            next: page.next.map(|c| Cursor { received_at: c.received_at, card_id: c.card_id, key: c.key }),
            query_ms,
        })
    }
}
