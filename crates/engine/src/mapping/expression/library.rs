//! The expression engine and everything an expression can call: Rhai's operators, math and
//! logic, and the functions below. Nothing else: no I/O, no `sleep`, no `eval`, no closures,
//! no loops, no lists or maps beyond reading `row`.
//!
//! Every function here is total: it returns a value or an error for any input (no panic, no
//! overflow), and computes the size of what it would make before allocating it
//! (`limits.rs`).

use std::fmt::Write as _;
use std::sync::OnceLock;

use chrono::format::{Item, StrftimeItems};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use rhai::packages::{
    ArithmeticPackage, BasicMathPackage, BasicStringPackage, LogicPackage, Package,
};
use rhai::{Dynamic, Engine, EvalAltResult, ImmutableString};
use rust_decimal::Decimal;

use super::limits::{MAX_LIST_ITEMS, MAX_OPERATIONS, MAX_TEXT_BYTES, check_size, out_of_time};
use super::{text_of, to_value};
use crate::value::Value;

type Fallible<T> = Result<T, Box<EvalAltResult>>;

fn runtime(message: String) -> Box<EvalAltResult> {
    message.into()
}

fn sized(function: &str, bytes: usize) -> Fallible<()> {
    check_size(function, bytes).map_err(runtime)
}

/// The longest date format accepted (a format is a pattern, not data).
const MAX_FORMAT_CHARS: usize = 200;

fn checked_format(items: &str) -> Fallible<Vec<Item<'_>>> {
    if items.chars().count() > MAX_FORMAT_CHARS {
        return Err(runtime(format!(
            "a date format may be at most {MAX_FORMAT_CHARS} characters"
        )));
    }
    let parsed: Vec<Item<'_>> = StrftimeItems::new(items).collect();
    if parsed.iter().any(|i| matches!(i, Item::Error)) {
        return Err(runtime(format!(
            "“{items}” is not a valid date format (use %Y-%m-%d %H:%M:%S style)"
        )));
    }
    Ok(parsed)
}

/// Formats with `items`; a format that needs what the value lacks (a time zone, say) is an
/// error, not a panic.
fn formatted(shown: impl std::fmt::Display, items: &str) -> Fallible<String> {
    let mut out = String::new();
    write!(out, "{shown}").map_err(|_| {
        runtime(format!(
            "“{items}” asks for something this value does not have (a time zone?)"
        ))
    })?;
    Ok(out)
}

fn out_of_range(what: &str) -> Box<EvalAltResult> {
    runtime(format!("{what} is out of the range of dates"))
}

fn shifted(t: NaiveDateTime, delta: Option<TimeDelta>, what: &str) -> Fallible<NaiveDateTime> {
    delta
        .and_then(|d| t.checked_add_signed(d))
        .ok_or_else(|| out_of_range(what))
}

/// Bytes `s` takes once every character is mapped by `case` (upper or lower case can
/// change a character's length).
fn cased_len<I: Iterator<Item = char>>(s: &str, case: impl Fn(char) -> I) -> usize {
    if s.len().saturating_mul(3) <= MAX_TEXT_BYTES {
        return 0; // cannot exceed the limit: skip the count
    }
    s.chars().flat_map(case).map(char::len_utf8).sum()
}

/// Bytes of `s` with every `from` replaced by `to`, counted without building it.
fn replaced_len(s: &str, from: &str, to: &str) -> usize {
    let (count, removed) = if from.is_empty() {
        (s.chars().count() + 1, 0)
    } else {
        let n = s.matches(from).count();
        (n, n * from.len())
    };
    (s.len() - removed).saturating_add(count.saturating_mul(to.len()))
}

/// `start`/`len` in characters (a negative start counts from the end), as a byte range.
fn char_range(s: &str, start: i64, len: Option<i64>) -> (usize, usize) {
    let count = s.chars().count() as i64;
    let start = if start < 0 {
        (count + start).max(0)
    } else {
        start.min(count)
    };
    let end = match len {
        Some(n) => start.saturating_add(n.max(0)).min(count),
        None => count,
    };
    let byte = |i: i64| s.char_indices().nth(i as usize).map_or(s.len(), |(b, _)| b);
    (byte(start), byte(end))
}

/// Text of a value for `+`: invariant, null adds nothing.
fn plain_text(d: &Dynamic) -> String {
    if d.is_unit() {
        return String::new();
    }
    match to_value(d.clone()) {
        Ok(v) => v.to_invariant_text(),
        Err(_) => d.to_string(),
    }
}

/// The engine every expression runs in (built once; it holds no state between evaluations).
pub(super) fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut e = Engine::new_raw();
        for package in [
            ArithmeticPackage::new().as_shared_module(),
            LogicPackage::new().as_shared_module(),
            BasicMathPackage::new().as_shared_module(),
            BasicStringPackage::new().as_shared_module(),
        ] {
            e.register_global_module(package);
        }
        e.set_strict_variables(true)
            .set_max_operations(MAX_OPERATIONS)
            .set_max_string_size(MAX_TEXT_BYTES)
            .set_max_array_size(MAX_LIST_ITEMS)
            .set_max_map_size(MAX_LIST_ITEMS)
            .set_max_expr_depths(64)
            .set_fail_on_invalid_map_property(true);
        // Operators resolve through the functions below first, so `+` on text is counted.
        e.set_fast_operators(false);
        e.disable_symbol("eval");
        e.on_print(|_| {});
        e.on_debug(|_, _, _| {});
        e.on_progress(|_| out_of_time().then(|| "time".into()));

        register_null_and_conversion(&mut e);
        register_text(&mut e);
        register_dates(&mut e);
        e
    })
}

fn register_null_and_conversion(e: &mut Engine) {
    e.register_fn("is_null", |x: Dynamic| x.is_unit());
    e.register_fn(
        "coalesce",
        |a: Dynamic, b: Dynamic| if a.is_unit() { b } else { a },
    );
    e.register_fn("to_text", |x: Dynamic| -> Fallible<String> {
        let text = text_of(&x);
        sized("to_text", text.len())?;
        Ok(text)
    });
    e.register_fn("to_int", |s: &str| -> Fallible<i64> {
        s.trim()
            .parse()
            .map_err(|_| runtime(format!("“{}” is not a whole number", preview(s))))
    });
    e.register_fn("to_decimal", |s: &str| -> Fallible<Decimal> {
        s.trim()
            .parse()
            .map_err(|_| runtime(format!("“{}” is not a decimal number", preview(s))))
    });
}

/// The start of a long text, for messages.
fn preview(s: &str) -> String {
    const SHOWN: usize = 40;
    if s.chars().count() <= SHOWN {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(SHOWN).collect::<String>())
    }
}

fn register_text(e: &mut Engine) {
    // `text + text`, `text + anything` and `anything + text`.
    e.register_fn(
        "+",
        |a: ImmutableString, b: ImmutableString| -> Fallible<String> {
            sized("+", a.len().saturating_add(b.len()))?;
            Ok(format!("{a}{b}"))
        },
    );
    e.register_fn("+", |s: ImmutableString, x: Dynamic| -> Fallible<String> {
        let tail = plain_text(&x);
        sized("+", s.len().saturating_add(tail.len()))?;
        Ok(format!("{s}{tail}"))
    });
    e.register_fn("+", |x: Dynamic, s: ImmutableString| -> Fallible<String> {
        let head = plain_text(&x);
        sized("+", s.len().saturating_add(head.len()))?;
        Ok(format!("{head}{s}"))
    });
    e.register_fn("concat", |a: Dynamic, b: Dynamic| -> Fallible<String> {
        let (a, b) = (text_of(&a), text_of(&b));
        sized("concat", a.len().saturating_add(b.len()))?;
        Ok(a + b.as_str())
    });
    for name in ["upper", "to_upper"] {
        e.register_fn(name, move |s: &str| -> Fallible<String> {
            sized(name, cased_len(s, char::to_uppercase))?;
            Ok(s.to_uppercase())
        });
    }
    for name in ["lower", "to_lower"] {
        e.register_fn(name, move |s: &str| -> Fallible<String> {
            sized(name, cased_len(s, char::to_lowercase))?;
            Ok(s.to_lowercase())
        });
    }
    e.register_fn("trim", |s: &str| s.trim().to_owned());
    e.register_fn("left", |s: &str, n: i64| {
        s.chars()
            .take(n.clamp(0, i64::MAX) as usize)
            .collect::<String>()
    });
    e.register_fn("right", |s: &str, n: i64| {
        let count = s.chars().count();
        s.chars()
            .skip(count.saturating_sub(n.clamp(0, i64::MAX) as usize))
            .collect::<String>()
    });
    e.register_fn(
        "replace_all",
        |s: &str, from: &str, to: &str| -> Fallible<String> {
            sized("replace_all", replaced_len(s, from, to))?;
            Ok(s.replace(from, to))
        },
    );
    e.register_fn("len", |s: &str| s.chars().count() as i64);
    e.register_get("len", |s: &mut ImmutableString| s.chars().count() as i64);
    e.register_fn("is_empty", |s: &str| s.is_empty());
    e.register_fn("contains", |s: &str, part: &str| s.contains(part));
    e.register_fn("contains", |s: &str, c: char| s.contains(c));
    e.register_fn("starts_with", |s: &str, part: &str| s.starts_with(part));
    e.register_fn("ends_with", |s: &str, part: &str| s.ends_with(part));
    e.register_fn("index_of", |s: &str, part: &str| {
        s.find(part)
            .map_or(-1, |byte| s[..byte].chars().count() as i64)
    });
    e.register_fn("sub_string", |s: &str, start: i64, len: i64| {
        let (from, to) = char_range(s, start, Some(len));
        s[from..to].to_owned()
    });
    e.register_fn("sub_string", |s: &str, start: i64| {
        let (from, to) = char_range(s, start, None);
        s[from..to].to_owned()
    });
    e.register_fn(
        "split",
        |s: &str, delimiter: &str| -> Fallible<rhai::Array> {
            let pieces = if delimiter.is_empty() {
                s.chars().count() + 2
            } else {
                s.matches(delimiter).count() + 1
            };
            if pieces > MAX_LIST_ITEMS {
                return Err(runtime(format!(
                    "split() would make {pieces} pieces; an expression may make at most {MAX_LIST_ITEMS}"
                )));
            }
            Ok(s.split(delimiter).map(|p| Dynamic::from(p.to_owned())).collect())
        },
    );
}

fn register_dates(e: &mut Engine) {
    e.register_type_with_name::<NaiveDateTime>("Timestamp");
    e.register_type_with_name::<NaiveDate>("Date");
    e.register_fn("parse_timestamp", |s: &str| -> Fallible<NaiveDateTime> {
        match Value::Text(s.to_owned()).convert_to(&crate::value::ColumnType::Timestamp) {
            Ok(Value::Timestamp(t)) => Ok(t),
            Ok(_) => Err(runtime(format!("“{}” is not a timestamp", preview(s)))),
            Err(e) => Err(runtime(e.0)),
        }
    });
    e.register_fn("parse_date", |s: &str| -> Fallible<NaiveDate> {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map_err(|_| runtime(format!("“{}” is not a date (YYYY-MM-DD)", preview(s))))
    });
    e.register_fn("format", |t: NaiveDateTime, f: &str| -> Fallible<String> {
        formatted(t.format_with_items(checked_format(f)?.into_iter()), f)
    });
    e.register_fn("format", |d: NaiveDate, f: &str| -> Fallible<String> {
        formatted(d.format_with_items(checked_format(f)?.into_iter()), f)
    });
    e.register_fn("add_days", |t: NaiveDateTime, n: i64| {
        shifted(t, TimeDelta::try_days(n), "add_days")
    });
    e.register_fn("add_days", |d: NaiveDate, n: i64| -> Fallible<NaiveDate> {
        TimeDelta::try_days(n)
            .and_then(|delta| d.checked_add_signed(delta))
            .ok_or_else(|| out_of_range("add_days"))
    });
    e.register_fn("add_hours", |t: NaiveDateTime, n: i64| {
        shifted(t, TimeDelta::try_hours(n), "add_hours")
    });
    e.register_fn("add_minutes", |t: NaiveDateTime, n: i64| {
        shifted(t, TimeDelta::try_minutes(n), "add_minutes")
    });
    e.register_fn("date", |t: NaiveDateTime| t.date());
    e.register_fn("at_midnight", |d: NaiveDate| d.and_time(NaiveTime::MIN));
    e.register_fn("year", |t: NaiveDateTime| {
        i64::from(chrono::Datelike::year(&t))
    });
    e.register_fn("year", |d: NaiveDate| i64::from(chrono::Datelike::year(&d)));
    e.register_fn("month", |t: NaiveDateTime| {
        i64::from(chrono::Datelike::month(&t))
    });
    e.register_fn("month", |d: NaiveDate| {
        i64::from(chrono::Datelike::month(&d))
    });
    e.register_fn("day", |t: NaiveDateTime| {
        i64::from(chrono::Datelike::day(&t))
    });
    e.register_fn("day", |d: NaiveDate| i64::from(chrono::Datelike::day(&d)));
    e.register_fn("seconds_between", |a: NaiveDateTime, b: NaiveDateTime| {
        (b - a).num_seconds()
    });
    e.register_fn("days_between", |a: NaiveDate, b: NaiveDate| {
        (b - a).num_days()
    });
    e.register_fn("to_string", |t: NaiveDateTime| {
        Value::Timestamp(t).to_invariant_text()
    });
    e.register_fn("to_string", |d: NaiveDate| {
        Value::Date(d).to_invariant_text()
    });
    for (op, f) in [
        ("==", 0),
        ("!=", 1),
        ("<", 2),
        ("<=", 3),
        (">", 4),
        (">=", 5),
    ] {
        let cmp = move |a: std::cmp::Ordering| match f {
            0 => a.is_eq(),
            1 => a.is_ne(),
            2 => a.is_lt(),
            3 => a.is_le(),
            4 => a.is_gt(),
            _ => a.is_ge(),
        };
        e.register_fn(op, move |a: NaiveDateTime, b: NaiveDateTime| cmp(a.cmp(&b)));
        e.register_fn(op, move |a: NaiveDate, b: NaiveDate| cmp(a.cmp(&b)));
    }
}

#[cfg(test)]
mod tests {
    use super::{char_range, replaced_len};

    #[test]
    fn sizes_are_counted_without_building_the_text() {
        for (s, from, to) in [
            ("banana", "a", "xyz"),
            ("banana", "", "-"),
            ("ééé", "é", ""),
            ("", "", "abc"),
            ("aaaa", "aa", "b"),
        ] {
            assert_eq!(
                replaced_len(s, from, to),
                s.replace(from, to).len(),
                "{s} {from} {to}"
            );
        }
    }

    #[test]
    fn character_ranges_clamp_instead_of_panicking() {
        let s = "héllo";
        for (start, len) in [
            (0, 2),
            (-2, 5),
            (10, 1),
            (-10, 2),
            (1, -1),
            (i64::MIN, i64::MAX),
        ] {
            let (a, b) = char_range(s, start, Some(len));
            assert!(a <= b && b <= s.len() && s.is_char_boundary(a) && s.is_char_boundary(b));
        }
        assert_eq!(char_range(s, 1, Some(2)), (1, 4));
    }
}
