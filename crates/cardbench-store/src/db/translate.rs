//! The store's SQL, written in SQLite's spelling, as PostgreSQL reads it. Only what the store's
//! statements use, each rule with its reason:
//! - placeholders `?N` become `$N`, and a bare `?` the next number (SQLite counts them the same);
//! - `expr COLLATE NOCASE` becomes `lower(expr)` for a plain column name (PostgreSQL has no
//!   NOCASE collation; the PostgreSQL schema indexes `lower(holder)` to match);
//! - `name LIKE pattern` becomes `lower(name) LIKE lower(pattern)`: SQLite's LIKE ignores ASCII
//!   case, PostgreSQL's does not; and unlike `ILIKE`, a prefix pattern is then served by an index
//!   on `lower(name) text_pattern_ops` (the holder search, migration 17), not a scan of the table;
//! - `INSERT OR IGNORE` becomes `INSERT … ON CONFLICT DO NOTHING`.
//!
//! Quoted text ('…', "…") is copied as it is. Anything else that differs (`strftime`, pragmas)
//! is not translated: the module that needs it asks the connection for its engine.

/// `sql` in PostgreSQL's spelling.
pub fn to_postgres(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut next_bare = 1;
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            // A comment runs to the end of its line; an apostrophe in it starts no text.
            '-' if chars.peek().is_some_and(|&(_, n)| n == '-') => {
                out.push(c);
                for (_, q) in chars.by_ref() {
                    out.push(q);
                    if q == '\n' {
                        break;
                    }
                }
            }
            '\'' | '"' => {
                out.push(c);
                for (_, q) in chars.by_ref() {
                    out.push(q);
                    if q == c {
                        break;
                    }
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some(&(_, d)) = chars.peek() {
                    if d.is_ascii_digit() {
                        digits.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push('$');
                if digits.is_empty() {
                    out.push_str(&next_bare.to_string());
                    next_bare += 1;
                } else {
                    out.push_str(&digits);
                    next_bare = digits.parse::<usize>().unwrap_or(next_bare) + 1;
                }
            }
            _ => out.push(c),
        }
    }
    let out = nocase_to_lower(&out);
    let out = like_to_lower(&out);
    insert_or_ignore(&out)
}

/// `name COLLATE NOCASE` -> `lower(name)` (a column name, possibly `t.name`).
fn nocase_to_lower(sql: &str) -> String {
    const MARK: &str = " COLLATE NOCASE";
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find(MARK) {
        let before = &rest[..at];
        let start = before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$')).map_or(0, |i| i + 1);
        out.push_str(&before[..start]);
        out.push_str("lower(");
        out.push_str(&before[start..]);
        out.push(')');
        rest = &rest[at + MARK.len()..];
    }
    out.push_str(rest);
    out
}

/// `name LIKE pattern` -> `lower(name) LIKE lower(pattern)`, for `LIKE` as a whole word after a
/// column name (possibly `t.name`) and before one token (a placeholder, a quoted text).
fn like_to_lower(sql: &str) -> String {
    const WORD: &str = "LIKE";
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(sql.len() + 16);
    let mut rest = sql;
    while let Some(at) = rest.find(WORD) {
        let before = &rest[..at];
        let after = &rest[at + WORD.len()..];
        let whole = before.chars().next_back().is_none_or(|c| !is_word(c)) && after.chars().next().is_none_or(|c| !is_word(c));
        let name_end = before.trim_end().len();
        let name_start = before[..name_end].rfind(|c: char| !(is_word(c) || c == '.' || c == '$')).map_or(0, |i| i + 1);
        let pattern = after.trim_start();
        let pattern_len = match pattern.chars().next() {
            Some(q @ ('\'' | '"')) => pattern[1..].find(q).map_or(pattern.len(), |i| i + 2),
            _ => pattern.find(|c: char| !(is_word(c) || c == '$')).unwrap_or(pattern.len()),
        };
        if !whole || name_start == name_end || pattern_len == 0 {
            out.push_str(&rest[..at + WORD.len()]);
            rest = after;
            continue;
        }
        out.push_str(&before[..name_start]);
        out.push_str(&format!("lower({}) LIKE lower({})", &before[name_start..name_end], &pattern[..pattern_len]));
        rest = &pattern[pattern_len..];
    }
    out.push_str(rest);
    out
}

fn insert_or_ignore(sql: &str) -> String {
    match sql.find("INSERT OR IGNORE INTO") {
        Some(at) => {
            let mut out = String::with_capacity(sql.len() + 24);
            out.push_str(&sql[..at]);
            out.push_str("INSERT INTO");
            out.push_str(sql[at + "INSERT OR IGNORE INTO".len()..].trim_end().trim_end_matches(';'));
            out.push_str(" ON CONFLICT DO NOTHING");
            out
        }
        None => sql.to_owned(),
    }
}

/// `sql` (PostgreSQL's spelling) with every `$N IS NULL` and `$N IS NOT NULL` written `TRUE`:
/// the same placeholders in their typed uses only, for PostgreSQL to infer their types from.
pub fn without_null_tests(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let tail = &after[digits..];
        let test = [" IS NULL", " IS NOT NULL"].into_iter().find(|t| tail.starts_with(t));
        match test {
            Some(t) if digits > 0 => {
                out.push_str("TRUE");
                rest = &tail[t.len()..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::{to_postgres, without_null_tests};

    #[test]
    fn null_tests_give_way_to_the_typed_uses() {
        assert_eq!(
            without_null_tests("WHERE ($1 IS NULL OR subject = $1) AND ($2 IS NOT NULL) AND x = $3"),
            "WHERE (TRUE OR subject = $1) AND (TRUE) AND x = $3"
        );
    }

    #[test]
    fn placeholders_are_numbered_like_sqlite_numbers_them() {
        assert_eq!(to_postgres("SELECT a FROM t WHERE x = ?1 AND (?2 IS NULL OR y = ?2)"), "SELECT a FROM t WHERE x = $1 AND ($2 IS NULL OR y = $2)");
        assert_eq!(to_postgres("INSERT INTO t VALUES (?, ?, ?)"), "INSERT INTO t VALUES ($1, $2, $3)");
        assert_eq!(to_postgres("SELECT '?1', \"a?\" FROM t WHERE x = ?"), "SELECT '?1', \"a?\" FROM t WHERE x = $1");
        assert_eq!(to_postgres("SELECT a -- the card's\n FROM t WHERE x = ?1"), "SELECT a -- the card's\n FROM t WHERE x = $1");
    }

    #[test]
    fn sqlite_spellings_become_postgres_ones() {
        assert_eq!(
            to_postgres("ORDER BY holder COLLATE NOCASE, card_id"),
            "ORDER BY lower(holder), card_id"
        );
        assert_eq!(
            to_postgres("(c.holder COLLATE NOCASE, card_id) > (?1 COLLATE NOCASE, ?2)"),
            "(lower(c.holder), card_id) > (lower($1), $2)"
        );
        assert_eq!(to_postgres("(a OR holder LIKE ?1 ESCAPE '\\')"), "(a OR lower(holder) LIKE lower($1) ESCAPE '\\')");
        assert_eq!(to_postgres("c.holder LIKE 'Å%'"), "lower(c.holder) LIKE lower('Å%')");
        assert_eq!(to_postgres("SELECT likes, UNLIKELY FROM t"), "SELECT likes, UNLIKELY FROM t", "only the whole word");
        assert_eq!(to_postgres("INSERT OR IGNORE INTO t (a) VALUES (?1)"), "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING");
    }
}
