//! Expression mappings, in Rhai (<https://rhai.rs>): a maintained, sandboxed expression
//! language with strings, math, comparisons, `if` expressions and conversions, plus the
//! date, null and text functions registered here.
//!
//! Columns are variables: `first_name + " " + last_name`. A column whose name is not a plain
//! identifier (spaces, quotes, unicode, keywords) is quoted through `row`:
//! `row["First Name"] + " " + row["Last Name"]`. Unknown names are refused when the mapping
//! is compiled, with the line and column of the mistake.
//!
//! Sandbox: no modules, no I/O, at most 100,000 operations per evaluation.

use std::cell::Cell;
use std::sync::OnceLock;

use chrono::format::{Item, StrftimeItems};
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rhai::{AST, Dynamic, Engine, EvalAltResult, Map, Position, Scope};
use rust_decimal::Decimal;

use super::locale::Locale;
use crate::connectors::{Row, TableSchema};
use crate::value::Value;

/// A compiled expression over the columns of one table.
#[derive(Debug)]
pub struct Expression {
    ast: AST,
    /// Columns readable as plain variables.
    variables: Vec<String>,
}

/// A mistake in an expression, with where it is (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location(*line, *column))]
pub struct ExpressionError {
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("line {l}, column {c}: "),
        (Some(l), None) => format!("line {l}: "),
        _ => String::new(),
    }
}

fn at(message: impl Into<String>, position: Position) -> ExpressionError {
    ExpressionError {
        message: message.into(),
        line: position.line(),
        column: position.position(),
    }
}

const KEYWORDS: &[&str] = &[
    "true",
    "false",
    "let",
    "const",
    "if",
    "else",
    "switch",
    "do",
    "while",
    "loop",
    "until",
    "for",
    "in",
    "continue",
    "break",
    "return",
    "throw",
    "try",
    "catch",
    "fn",
    "private",
    "import",
    "export",
    "as",
    "this",
    "global",
    "Fn",
    "call",
    "curry",
    "type_of",
    "print",
    "debug",
    "eval",
    "is_def_var",
    "is_def_fn",
    "is_shared",
    "row",
    "null",
];

/// Whether a column can be written as a bare variable name.
pub fn is_plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name)
}

type Fallible<T> = Result<T, Box<EvalAltResult>>;

fn runtime(message: String) -> Box<EvalAltResult> {
    message.into()
}

fn checked_format(items: &str) -> Fallible<Vec<Item<'_>>> {
    let parsed: Vec<Item<'_>> = StrftimeItems::new(items).collect();
    if parsed.iter().any(|i| matches!(i, Item::Error)) {
        return Err(runtime(format!(
            "“{items}” is not a valid date format (use %Y-%m-%d %H:%M:%S style)"
        )));
    }
    Ok(parsed)
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut e = Engine::new();
        e.set_strict_variables(true)
            .set_max_operations(100_000)
            .set_max_string_size(10 * 1024 * 1024)
            .set_max_array_size(100_000)
            .set_max_map_size(100_000)
            .set_max_expr_depths(64, 32)
            .set_fail_on_invalid_map_property(true);
        e.on_print(|_| {});
        e.on_debug(|_, _, _| {});

        // Null handling.
        e.register_fn("is_null", |x: Dynamic| x.is_unit());
        e.register_fn(
            "coalesce",
            |a: Dynamic, b: Dynamic| if a.is_unit() { b } else { a },
        );

        // Text.
        e.register_fn("upper", |s: &str| s.to_uppercase());
        e.register_fn("lower", |s: &str| s.to_lowercase());
        e.register_fn("trim", |s: &str| s.trim().to_owned());
        e.register_fn("left", |s: &str, n: i64| {
            s.chars().take(n.max(0) as usize).collect::<String>()
        });
        e.register_fn("right", |s: &str, n: i64| {
            let count = s.chars().count();
            s.chars()
                .skip(count.saturating_sub(n.max(0) as usize))
                .collect::<String>()
        });
        e.register_fn("replace_all", |s: &str, from: &str, to: &str| {
            s.replace(from, to)
        });
        e.register_fn("concat", |a: Dynamic, b: Dynamic| {
            format!("{}{}", text_of(&a), text_of(&b))
        });

        // Conversion.
        e.register_fn("to_text", |x: Dynamic| text_of(&x));
        e.register_fn("to_int", |s: &str| -> Fallible<i64> {
            s.trim()
                .parse()
                .map_err(|_| runtime(format!("“{s}” is not a whole number")))
        });
        e.register_fn("to_decimal", |s: &str| -> Fallible<Decimal> {
            s.trim()
                .parse()
                .map_err(|_| runtime(format!("“{s}” is not a decimal number")))
        });

        // Dates and times (timestamps are UTC).
        e.register_type_with_name::<NaiveDateTime>("Timestamp");
        e.register_type_with_name::<NaiveDate>("Date");
        e.register_fn("parse_timestamp", |s: &str| -> Fallible<NaiveDateTime> {
            Value::Text(s.to_owned())
                .convert_to(&crate::value::ColumnType::Timestamp)
                .map(|v| match v {
                    Value::Timestamp(t) => t,
                    _ => unreachable!("converted to a timestamp"),
                })
                .map_err(|e| runtime(e.0))
        });
        e.register_fn("parse_date", |s: &str| -> Fallible<NaiveDate> {
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map_err(|_| runtime(format!("“{s}” is not a date (YYYY-MM-DD)")))
        });
        e.register_fn("format", |t: NaiveDateTime, f: &str| -> Fallible<String> {
            Ok(t.format_with_items(checked_format(f)?.into_iter())
                .to_string())
        });
        e.register_fn("format", |d: NaiveDate, f: &str| -> Fallible<String> {
            Ok(d.format_with_items(checked_format(f)?.into_iter())
                .to_string())
        });
        e.register_fn("add_days", |t: NaiveDateTime, n: i64| t + Duration::days(n));
        e.register_fn("add_days", |d: NaiveDate, n: i64| d + Duration::days(n));
        e.register_fn("add_hours", |t: NaiveDateTime, n: i64| {
            t + Duration::hours(n)
        });
        e.register_fn("add_minutes", |t: NaiveDateTime, n: i64| {
            t + Duration::minutes(n)
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
        e
    })
}

thread_local! {
    /// The locale of the mapping being evaluated on this thread (`Expression::evaluate` sets
    /// it; evaluation is synchronous, so it cannot leak into another mapping's evaluation).
    static LOCALE: Cell<Locale> = const { Cell::new(Locale::Invariant) };
}

/// Text of a value the way `to_text` shows it (null is empty), in the package's locale.
fn text_of(d: &Dynamic) -> String {
    if d.is_unit() {
        return String::new();
    }
    match to_value(d.clone()) {
        Ok(v) => LOCALE.with(|l| l.get().format(&v)),
        Err(_) => d.to_string(),
    }
}

fn to_dynamic(value: &Value) -> Dynamic {
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Int(i) => Dynamic::from_int(*i),
        Value::Float(f) => Dynamic::from_float(*f),
        Value::Decimal(d) => d
            .parse::<Decimal>()
            .map(Dynamic::from_decimal)
            .unwrap_or_else(|_| d.clone().into()),
        Value::Text(s) => s.clone().into(),
        Value::Bytes(b) => Dynamic::from_blob(b.clone()),
        Value::Date(d) => Dynamic::from(*d),
        Value::Time(t) => Value::Time(*t).to_invariant_text().into(),
        Value::Timestamp(t) => Dynamic::from(*t),
        Value::Uuid(u) => u.to_string().into(),
        Value::Json(j) => j.to_string().into(),
    }
}

fn to_value(d: Dynamic) -> Result<Value, String> {
    if d.is_unit() {
        return Ok(Value::Null);
    }
    let type_name = d.type_name();
    if d.is::<bool>() {
        return Ok(Value::Bool(d.cast()));
    }
    if d.is::<i64>() {
        return Ok(Value::Int(d.cast()));
    }
    if d.is::<f64>() {
        return Ok(Value::Float(d.cast()));
    }
    if d.is::<Decimal>() {
        return Ok(Value::Decimal(d.cast::<Decimal>().normalize().to_string()));
    }
    if d.is_string() {
        return Ok(Value::Text(d.into_string().unwrap_or_default()));
    }
    if d.is::<char>() {
        return Ok(Value::Text(d.cast::<char>().to_string()));
    }
    if d.is::<NaiveDateTime>() {
        return Ok(Value::Timestamp(d.cast()));
    }
    if d.is::<NaiveDate>() {
        return Ok(Value::Date(d.cast()));
    }
    if d.is_blob() {
        return Ok(Value::Bytes(d.into_blob().unwrap_or_default()));
    }
    Err(format!(
        "the expression produced a {type_name}, which cannot be written to a column"
    ))
}

impl Expression {
    /// Compiles `text` against the columns of `read`; unknown names are errors.
    pub fn compile(text: &str, read: &TableSchema) -> Result<Expression, ExpressionError> {
        let variables: Vec<String> = read
            .columns
            .iter()
            .map(|c| c.name.clone())
            .filter(|n| is_plain_name(n))
            .collect();
        let mut scope = Scope::new();
        for name in &variables {
            scope.push_dynamic(name.as_str(), Dynamic::UNIT);
        }
        scope.push_dynamic("row", Dynamic::from_map(Map::new()));
        let ast = engine()
            .compile_expression_with_scope(&scope, text)
            .map_err(|e| at(e.0.to_string(), e.1))?;
        Ok(Expression { ast, variables })
    }

    /// The expression's value for one row; `to_text` formats in `locale`.
    pub fn evaluate(&self, row: &Row, locale: Locale) -> Result<Value, ExpressionError> {
        let mut scope = Scope::new();
        for name in &self.variables {
            scope.push_dynamic(
                name.as_str(),
                row.get(name).map_or(Dynamic::UNIT, to_dynamic),
            );
        }
        let map: Map = row
            .iter()
            .map(|(k, v)| (k.as_str().into(), to_dynamic(v)))
            .collect();
        scope.push_dynamic("row", Dynamic::from_map(map));
        let previous = LOCALE.with(|l| l.replace(locale));
        let result = engine().eval_ast_with_scope::<Dynamic>(&mut scope, &self.ast);
        LOCALE.with(|l| l.set(previous));
        let result = result.map_err(|e| {
            let position = e.position();
            let message = match *e {
                EvalAltResult::ErrorRuntime(ref d, _) => d.to_string(),
                ref other => other.to_string(),
            };
            at(strip_position(&message), position)
        })?;
        to_value(result).map_err(|m| ExpressionError {
            message: m,
            line: None,
            column: None,
        })
    }
}

/// Rhai appends "(line x, position y)" to some messages; we report the position ourselves.
fn strip_position(message: &str) -> String {
    match message.rfind(" (line ") {
        Some(i) if message.ends_with(')') => message[..i].to_owned(),
        _ => message.to_owned(),
    }
}
