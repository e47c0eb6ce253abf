//! A card as a screen shows it: the same masking for the app's card panel and `cardbench cards
//! show` (text and JSON).

use crate::cardholder::mask_name;
use crate::views::CardDetail;

impl CardDetail {
    /// This detail as shown on a workstation: with `mask_holder` (the workstation's setting) the
    /// holder's name is masked ([`mask_name`]), as in the worklist. The card elements stay: the
    /// card cannot be made without them.
    pub fn shown(mut self, mask_holder: bool) -> CardDetail {
        if mask_holder {
            self.card.holder = self.card.holder.as_deref().map(mask_name);
        }
        self
    }
}
