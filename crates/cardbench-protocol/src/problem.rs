//! One thing wrong with a message, located by its field path.
//!
//! A hostile or broken body can hold any number of problems, each quoting a path made of its own
//! keys: what is answered stays small (see "Limits" in `docs/protocol/README.md`). At most
//! [`MAX_PROBLEMS_LISTED`] problems are listed, each path and message cut short, and a last entry
//! counts the ones not listed; an ERROR carrying them stays far below the broker's message size.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// How many problems an answer lists; the rest are counted.
pub const MAX_PROBLEMS_LISTED: usize = 50;
/// A problem's path is cut to this many bytes (paths are made of the body's own keys).
pub const MAX_PATH_BYTES: usize = 128;
/// A problem's message is cut to this many bytes.
pub const MAX_MESSAGE_BYTES: usize = 256;
/// The one-line `details` text made by [`summarise`] is cut to this many bytes.
pub const MAX_DETAILS_BYTES: usize = 4096;
/// A value from outside quoted in a text (an unknown subject, a messageId) is cut to this many
/// bytes (Service Bus message ids are at most 128 characters).
pub const MAX_QUOTED_BYTES: usize = 128;

/// `path` uses dotted/indexed notation (`card.expectedReportDataFields[0]`); the empty path means
/// the body as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem { path: path.into(), message: message.into() }
    }

    /// The problem with its path and message cut to their bounds.
    fn shortened(self) -> Self {
        let path = cut_short(&self.path, MAX_PATH_BYTES).into_owned();
        let message = cut_short(&self.message, MAX_MESSAGE_BYTES).into_owned();
        Problem { path, message }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() { write!(f, "(body): {}", self.message) } else { write!(f, "{}: {}", self.path, self.message) }
    }
}

/// The problems an answer lists: the first [`MAX_PROBLEMS_LISTED`], each cut short, then (when
/// there were more) one entry with the empty path saying how many were not listed. Consumes the
/// whole iterator, so the count is exact, but keeps only what it lists.
pub fn listed(problems: impl IntoIterator<Item = Problem>) -> Vec<Problem> {
    let mut listed = Vec::new();
    let mut not_listed: u64 = 0;
    for problem in problems {
        if listed.len() < MAX_PROBLEMS_LISTED {
            listed.push(problem.shortened());
        } else {
            not_listed += 1;
        }
    }
    if not_listed > 0 {
        listed.push(Problem::new("", not_listed_message(not_listed)));
    }
    listed
}

fn not_listed_message(count: u64) -> String {
    format!("{count} more problem(s) not listed")
}

/// Joins problems into the one-line `details` text of an ERROR message, at most
/// [`MAX_DETAILS_BYTES`] long (the problems list carries them all).
pub fn summarise(problems: &[Problem]) -> String {
    let joined = problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; ");
    cut_short(&joined, MAX_DETAILS_BYTES).into_owned()
}

/// `text` cut to at most `max_bytes` bytes on a character boundary, with "…" appended when cut;
/// control characters (line breaks included) shown as U+FFFD, so a quoted value stays on one line
/// and encodes in JSON at most twice its length.
pub fn cut_short(text: &str, max_bytes: usize) -> Cow<'_, str> {
    const ELLIPSIS: &str = "…";
    let clean = !text.chars().any(char::is_control);
    if text.len() <= max_bytes && clean {
        return Cow::Borrowed(text);
    }
    // Where the text is cut if it turns out too long: the ellipsis must fit after it.
    let limit = max_bytes.saturating_sub(ELLIPSIS.len());
    let mut cut_at = None;
    let mut out = String::with_capacity(max_bytes.min(text.len()));
    for c in text.chars() {
        let c = if c.is_control() { char::REPLACEMENT_CHARACTER } else { c };
        if cut_at.is_none() && out.len() + c.len_utf8() > limit {
            cut_at = Some(out.len());
        }
        if out.len() + c.len_utf8() > max_bytes {
            out.truncate(cut_at.unwrap_or(0));
            out.push_str(ELLIPSIS);
            return Cow::Owned(out);
        }
        out.push(c);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_is_cut_on_a_character_boundary_and_marked() {
        assert_eq!(cut_short("short", 64), "short");
        let long = "ä".repeat(100);
        let cut = cut_short(&long, 64);
        assert!(cut.len() <= 64, "{}", cut.len());
        assert!(cut.ends_with('…'));
        assert_eq!(cut_short("a\nb", 64), "a\u{fffd}b", "one line");
        // U+FFFD is 3 bytes where a control character was 1: the bound still holds.
        let controls = "\u{1}".repeat(100);
        assert!(cut_short(&controls, 64).len() <= 64);
    }

    #[test]
    fn many_problems_are_listed_up_to_the_bound_and_the_rest_counted() {
        let many = (0..100_000).map(|i| Problem::new(format!("items[{i}]"), "must be a string"));
        let listed = listed(many);
        assert_eq!(listed.len(), MAX_PROBLEMS_LISTED + 1);
        assert_eq!(listed[0].path, "items[0]");
        assert_eq!(listed[MAX_PROBLEMS_LISTED], Problem::new("", "99950 more problem(s) not listed"));
        assert!(summarise(&listed).len() <= MAX_DETAILS_BYTES);
        assert_eq!(super::listed((0..3).map(|i| Problem::new(format!("a[{i}]"), "x"))).len(), 3, "no count when all are listed");
    }
}
