//! Expression mappings, in Rhai (<https://rhai.rs>): a maintained, sandboxed expression
//! language with strings, math, comparisons, `if` expressions and conversions, plus the
//! date, null and text functions registered here.
//!
//! Columns are variables: `first_name + " " + last_name`. A column whose name is not a plain
//! identifier (spaces, quotes, unicode, keywords) is quoted through `row`:
//! `row["First Name"] + " " + row["Last Name"]`. Unknown names are refused when the mapping
//! is compiled, with the line and column of the mistake.
//!
//! Sandbox: no modules, no I/O, no loops or closures, and bounded memory, steps and time per
//! evaluation (`limits.rs`); the functions an expression can call are in `library.rs`.

mod library;
pub mod limits;
pub mod reference;

use std::cell::Cell;

use chrono::{NaiveDate, NaiveDateTime};
use rhai::{AST, Dynamic, EvalAltResult, Map, Position, Scope};
use rust_decimal::Decimal;

use library::engine;
use limits::{MAX_EXPRESSION_CHARS, MAX_OPERATIONS, TIME_LIMIT};

use super::locale::Locale;
use crate::connectors::{Row, TableSchema};
use crate::value::Value;

/// A compiled expression over the columns of one table.
#[derive(Debug, Clone)]
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
        let chars = text.chars().count();
        if chars > MAX_EXPRESSION_CHARS {
            return Err(ExpressionError {
                message: format!(
                    "the expression is {chars} characters long; at most {MAX_EXPRESSION_CHARS} are allowed"
                ),
                line: None,
                column: None,
            });
        }
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
        let clock = limits::start_clock();
        let result = engine().eval_ast_with_scope::<Dynamic>(&mut scope, &self.ast);
        drop(clock);
        LOCALE.with(|l| l.set(previous));
        let result = result.map_err(|e| {
            let position = e.position();
            let message = match *e {
                EvalAltResult::ErrorRuntime(ref d, _) => d.to_string(),
                EvalAltResult::ErrorTerminated(..) => format!(
                    "the expression ran longer than {} ms for this record",
                    TIME_LIMIT.as_millis()
                ),
                EvalAltResult::ErrorTooManyOperations(..) => format!(
                    "the expression took more than {MAX_OPERATIONS} steps for this record"
                ),
                EvalAltResult::ErrorDataTooLarge(ref what, _) => format!(
                    "the expression made a value too large ({what}); at most {} MB of text and {} list items",
                    limits::MAX_TEXT_BYTES / (1024 * 1024),
                    limits::MAX_LIST_ITEMS
                ),
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
