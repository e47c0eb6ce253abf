//! Cards in hand: a card loaded at a production station is taken by that station (and the
//! operator working it), so the other stations of a floor show it as taken and cannot produce it
//! at the same time.
//!
//! The rule, in one place for the app, the CLI and the devices:
//! - Loading a producible card takes it ([`Workflow::take_card`]); the screen renews it while the
//!   card is shown (every [`Workflow::claim_renew_every`]) and releases it when the operator
//!   moves on ([`Workflow::release_card`]). Producing it releases it in the same transaction.
//! - A claim lasts [`CARD_CLAIM`] without renewal: a station that dies (or loses the network)
//!   stops renewing, and once its claim has run out any station may take the card.
//! - Producing, or applying readouts to, a card another station holds is refused
//!   ([`WorkflowError::TakenElsewhere`]); whatever process or operator of the *same* station
//!   asks is never refused (the app and `cardbench` on one machine are one station, so a single
//!   machine on its SQLite store works as it always did).
//! - "Next in sequence" ([`Workflow::take_next_card`]) takes the first producible card no other
//!   station holds, each candidate with one conditional write in a transaction of its own: two
//!   stations asking at once never get the same card, and no transaction waits holding a row
//!   another one wants (no deadlock on PostgreSQL).

use std::time::Duration;

use cardbench_store::Connection;
use cardbench_store::cards::{self, WorklistCursor, WorklistFilter, WorklistPage, WorklistRow};
use cardbench_store::claims::{self, Claim};

use crate::error::{Result, WorkflowError};
use crate::{Workflow, check_operator, lifecycle};

/// How long a card stays taken without renewal: how long a dead station's card waits.
pub const CARD_CLAIM: Duration = Duration::from_secs(120);

/// Candidates read per page by [`Workflow::take_next_card`].
const CANDIDATES: u32 = 16;

/// How a workflow step treats the claim on the card it changes.
pub(crate) struct Hand<'a> {
    station: &'a str,
    /// Who does the step: its audit rows name them, and a claim it takes.
    pub(crate) operator: &'a str,
    now: String,
    until: String,
    /// Take (or renew) the card for this station; otherwise only refuse one held elsewhere (a
    /// hot folder's file of many cards: no write per card).
    take: bool,
}

impl Hand<'_> {
    /// Holds `card_id` for this step, or refuses it when another station holds it.
    pub(crate) fn hold(&self, tx: &Connection, card_id: &str) -> Result<()> {
        if self.take {
            take_in(tx, card_id, self.station, self.operator, &self.now, &self.until).map(|_| ())
        } else {
            match claims::holder(tx, card_id, &self.now)? {
                Some(c) if c.station != self.station => Err(taken_elsewhere(c)),
                _ => Ok(()),
            }
        }
    }

    /// The card is produced: this station's claim on it is over.
    pub(crate) fn done(&self, tx: &Connection, card_id: &str) -> Result<()> {
        claims::release(tx, card_id, self.station)?;
        Ok(())
    }
}

fn taken_elsewhere(c: Claim) -> WorkflowError {
    WorkflowError::TakenElsewhere { card_id: c.card_id, station: c.station, operator: c.operator, since: c.taken_at }
}

/// Takes or renews `card_id` for `station`, or says who holds it.
fn take_in(tx: &Connection, card_id: &str, station: &str, operator: &str, now: &str, until: &str) -> Result<Claim> {
    // A holder that lets go between our write and our look leaves no row to name: ask again.
    for _ in 0..3 {
        let taken = claims::take(tx, card_id, station, operator, now, until)?;
        match taken.claim {
            Some(c) if taken.ours => return Ok(c),
            Some(c) if c.station != station => return Err(taken_elsewhere(c)),
            _ => {}
        }
    }
    Err(WorkflowError::InvalidRequest(format!("card {card_id} could not be taken: other stations keep taking and releasing it")))
}

impl Workflow {
    /// This workflow with cards taken for `ttl` instead of [`CARD_CLAIM`] (tests).
    pub fn with_claim_ttl(mut self, ttl: Duration) -> Self {
        self.claim_ttl = ttl;
        self
    }

    pub fn claim_ttl(&self) -> Duration {
        self.claim_ttl
    }

    /// How often a screen showing a card it took renews it: a third of its lifetime, so one
    /// renewal may fail (a busy store) without the card coming free.
    pub fn claim_renew_every(&self) -> Duration {
        self.claim_ttl / 3
    }

    pub(crate) fn hand<'a>(&'a self, operator: &'a str, take: bool) -> Hand<'a> {
        let now = chrono::Utc::now();
        let until = now + chrono::Duration::from_std(self.claim_ttl).unwrap_or(chrono::Duration::seconds(120));
        Hand {
            station: self.station(),
            operator,
            now: cardbench_store::time::format(now),
            until: cardbench_store::time::format(until),
            take,
        }
    }

    /// Takes `card_id` for this station and `operator` (a card loaded to be produced), or
    /// renews this station's claim on it. `Ok(None)` when the card cannot be produced now (a
    /// produced or shipped card is looked at, not held); [`WorkflowError::TakenElsewhere`] when
    /// another station holds it.
    pub fn take_card(&self, operator: &str, card_id: &str) -> Result<Option<Claim>> {
        let operator = check_operator(operator)?;
        let hand = self.hand(operator, true);
        self.store().write(|tx| {
            let card = cards::get(tx, card_id)?.ok_or_else(|| WorkflowError::UnknownCard(card_id.to_owned()))?;
            if !lifecycle::may_produce(card.status) {
                hand.done(tx, card_id)?;
                return Ok(None);
            }
            take_in(tx, card_id, hand.station, operator, &hand.now, &hand.until).map(Some)
        })
    }

    /// Gives this station's claim on `card_id` up (the operator moved on, the window closed);
    /// another station's claim is left alone. Claims that ran out long ago are forgotten too.
    pub fn release_card(&self, card_id: &str) -> Result<()> {
        let station = self.station().to_owned();
        let long_ago = chrono::Utc::now() - chrono::Duration::from_std(self.claim_ttl).unwrap_or(chrono::Duration::seconds(120));
        let long_ago = cardbench_store::time::format(long_ago);
        self.store().write(|tx| {
            claims::release(tx, card_id, &station)?;
            claims::forget_expired(tx, &long_ago)?;
            Ok::<_, WorkflowError>(())
        })
    }

    /// The next card of the production sequence after `after` (oldest first, see
    /// [`lifecycle::next_to_produce`]) that no other station holds, taken for this station and
    /// `operator`. A card this station already holds counts as free (it is its own card in
    /// hand). `None` when no card is left.
    pub fn take_next_card(&self, operator: &str, after: Option<WorklistCursor>) -> Result<Option<WorklistRow>> {
        let operator = check_operator(operator)?;
        let station = self.station().to_owned();
        let mut cursor = after;
        loop {
            let filter = WorklistFilter { after: cursor.take(), ..lifecycle::producible(CANDIDATES) };
            let page = self.worklist(&filter)?;
            for mut row in page.rows {
                if row.taken.is_some() {
                    continue;
                }
                let hand = self.hand(operator, true);
                // One candidate per transaction: a lost one leaves no lock held while the next
                // is tried.
                let won = self.store().write(|tx| {
                    let taken = claims::take(tx, &row.card_id, &station, operator, &hand.now, &hand.until)?;
                    let Some(claim) = taken.claim.filter(|_| taken.ours) else { return Ok(None) };
                    // Produced or refused at another station since the page was read.
                    if !cards::get(tx, &row.card_id)?.is_some_and(|c| lifecycle::may_produce(c.status)) {
                        claims::release(tx, &row.card_id, &station)?;
                        return Ok(None);
                    }
                    Ok::<_, WorkflowError>(Some(claim))
                })?;
                if let Some(claim) = won {
                    row.taken = Some(claim);
                    return Ok(Some(row));
                }
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(None),
            }
        }
    }

    /// `claim` when another station holds it (what a screen shows as "taken at …"); `None` for
    /// this station's own claims.
    pub fn held_elsewhere(&self, claim: Option<Claim>) -> Option<Claim> {
        claim.filter(|c| c.station != self.station())
    }

    /// A worklist page as this station shows it: each row's `taken` is another station's claim
    /// on the card, never this station's own.
    pub fn worklist(&self, filter: &WorklistFilter) -> Result<WorklistPage> {
        let mut page = self.store().read(|c| cards::worklist(c, filter))?;
        for row in &mut page.rows {
            row.taken = self.held_elsewhere(row.taken.take());
        }
        Ok(page)
    }

    /// The station other than this one that holds `card_id` now, if any.
    pub fn card_taken_elsewhere(&self, card_id: &str) -> Result<Option<Claim>> {
        let now = cardbench_store::time::now();
        let claim = self.store().read(|c| claims::holder(c, card_id, &now))?;
        Ok(self.held_elsewhere(claim))
    }
}
