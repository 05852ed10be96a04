//! `$filter` expressions: comparison operators `eq ne gt ge lt le`, `and`, `or`, `not`,
//! parentheses, the OData string functions `contains`, `startswith`, `endswith`, and the
//! Dataverse query functions `Microsoft.Dynamics.CRM.In` / `NotIn`. Literals: `null`,
//! `true`/`false`, numbers, `'strings'` (`''` escapes a quote), GUIDs, date-times
//! (`2026-11-25T15:04:05Z`) and dates (`2026-11-25`), all unquoted except strings.
//!
//! Literals are typed against the property as OData does: a quoted string compared with a
//! date-time column is an error, a GUID column also takes a quoted GUID (as Dataverse allows
//! for lookups). Text compares case-insensitively. A null column value satisfies only
//! `eq null` (and `ne` anything non-null is false for it, as SQL's `<>`). GUIDs compare as
//! their lowercase string form — a simplification: SQL Server orders `uniqueidentifier` by
//! its last byte groups first.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use super::errors::ApiError;
use super::schema::{AttrType, Attribute};
use super::time;

/// How a property compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    Decimal,
    DateTime,
    Date,
    Guid,
    Boolean,
}

impl Kind {
    pub fn of(attribute: &Attribute) -> Kind {
        match attribute.kind {
            AttrType::Uniqueidentifier | AttrType::Lookup => Kind::Guid,
            AttrType::String | AttrType::Memo => Kind::Text,
            AttrType::Integer | AttrType::BigInt | AttrType::Picklist | AttrType::State => {
                Kind::Integer
            }
            AttrType::Money => Kind::Decimal,
            AttrType::DateTime if attribute.is_date_only() => Kind::Date,
            AttrType::DateTime => Kind::DateTime,
        }
    }

    fn edm(self) -> &'static str {
        match self {
            Kind::Text => "Edm.String",
            Kind::Integer => "Edm.Int32",
            Kind::Decimal => "Edm.Decimal",
            Kind::DateTime => "Edm.DateTimeOffset",
            Kind::Date => "Edm.Date",
            Kind::Guid => "Edm.Guid",
            Kind::Boolean => "Edm.Boolean",
        }
    }
}

/// The properties a filter may name: the entity type's columns or metadata properties.
pub trait Columns {
    /// `Microsoft.Dynamics.CRM.account`, for error messages.
    fn type_name(&self) -> String;
    fn kind(&self, property: &str) -> Option<Kind>;
}

/// A typed value, from a literal or from a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Null,
    /// Lowercased (comparisons are case-insensitive).
    Text(String),
    Num(f64),
    Bool(bool),
    /// Lowercase hyphenated form.
    Guid(String),
    DateTime(DateTime<Utc>),
    Date(NaiveDate),
}

impl Lit {
    /// A record's value of a property of `kind`; anything unreadable counts as null.
    pub fn of(value: Option<&Value>, kind: Kind) -> Lit {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Lit::Null;
        };
        let lit = match kind {
            Kind::Text => value.as_str().map(|s| Lit::Text(s.to_lowercase())),
            Kind::Integer | Kind::Decimal => value.as_f64().map(Lit::Num),
            Kind::Boolean => value.as_bool().map(Lit::Bool),
            Kind::Guid => value.as_str().map(|s| Lit::Guid(s.to_lowercase())),
            Kind::DateTime => value
                .as_str()
                .and_then(time::parse_datetime)
                .map(Lit::DateTime),
            Kind::Date => value.as_str().and_then(time::parse_date).map(Lit::Date),
        };
        lit.unwrap_or(Lit::Null)
    }

    fn edm(&self) -> &'static str {
        match self {
            Lit::Null => "null",
            Lit::Text(_) => "Edm.String",
            Lit::Num(n) if n.fract() == 0.0 => "Edm.Int32",
            Lit::Num(_) => "Edm.Decimal",
            Lit::Bool(_) => "Edm.Boolean",
            Lit::Guid(_) => "Edm.Guid",
            Lit::DateTime(_) => "Edm.DateTimeOffset",
            Lit::Date(_) => "Edm.Date",
        }
    }

    /// Ordering of two values of one kind; null before everything (SQL Server's ascending
    /// order).
    pub fn order(&self, other: &Lit) -> Ordering {
        match (self, other) {
            (Lit::Null, Lit::Null) => Ordering::Equal,
            (Lit::Null, _) => Ordering::Less,
            (_, Lit::Null) => Ordering::Greater,
            (Lit::Text(a), Lit::Text(b)) | (Lit::Guid(a), Lit::Guid(b)) => a.cmp(b),
            (Lit::Num(a), Lit::Num(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (Lit::Bool(a), Lit::Bool(b)) => a.cmp(b),
            (Lit::DateTime(a), Lit::DateTime(b)) => a.cmp(b),
            (Lit::Date(a), Lit::Date(b)) => a.cmp(b),
            _ => Ordering::Equal,
        }
    }

    /// The literal as a value of `kind`, if compatible.
    fn to_kind(&self, kind: Kind) -> Option<Lit> {
        Some(match (self, kind) {
            (Lit::Null, _) => Lit::Null,
            (Lit::Text(_), Kind::Text)
            | (Lit::Num(_), Kind::Integer | Kind::Decimal)
            | (Lit::Bool(_), Kind::Boolean)
            | (Lit::Guid(_), Kind::Guid)
            | (Lit::DateTime(_), Kind::DateTime)
            | (Lit::Date(_), Kind::Date) => self.clone(),
            (Lit::Text(s), Kind::Guid) => Lit::Guid(uuid::Uuid::parse_str(s).ok()?.to_string()),
            (Lit::Date(d), Kind::DateTime) => Lit::DateTime(d.and_hms_opt(0, 0, 0)?.and_utc()),
            (Lit::DateTime(at), Kind::Date) => Lit::Date(at.date_naive()),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn parse(word: &str) -> Option<Op> {
        Some(match word {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return None,
        })
    }

    /// `5 lt x` is `x gt 5`.
    fn flipped(self) -> Op {
        match self {
            Op::Gt => Op::Lt,
            Op::Ge => Op::Le,
            Op::Lt => Op::Gt,
            Op::Le => Op::Ge,
            other => other,
        }
    }

    fn kind_name(self) -> &'static str {
        match self {
            Op::Eq => "Equal",
            Op::Ne => "NotEqual",
            Op::Gt => "GreaterThan",
            Op::Ge => "GreaterThanOrEqual",
            Op::Lt => "LessThan",
            Op::Le => "LessThanOrEqual",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFn {
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare {
        property: String,
        kind: Kind,
        op: Op,
        value: Lit,
    },
    Text {
        property: String,
        function: TextFn,
        needle: String,
    },
    In {
        property: String,
        kind: Kind,
        values: Vec<Lit>,
        negate: bool,
    },
}

impl Expr {
    pub fn matches(&self, record: &Map<String, Value>) -> bool {
        match self {
            Expr::And(a, b) => a.matches(record) && b.matches(record),
            Expr::Or(a, b) => a.matches(record) || b.matches(record),
            Expr::Not(e) => !e.matches(record),
            Expr::Compare {
                property,
                kind,
                op,
                value,
            } => {
                let actual = Lit::of(record.get(property), *kind);
                match (&actual, value) {
                    (Lit::Null, Lit::Null) => *op == Op::Eq,
                    (_, Lit::Null) => *op == Op::Ne,
                    (Lit::Null, _) => false,
                    _ => {
                        let ordering = actual.order(value);
                        match op {
                            Op::Eq => ordering == Ordering::Equal,
                            Op::Ne => ordering != Ordering::Equal,
                            Op::Gt => ordering == Ordering::Greater,
                            Op::Ge => ordering != Ordering::Less,
                            Op::Lt => ordering == Ordering::Less,
                            Op::Le => ordering != Ordering::Greater,
                        }
                    }
                }
            }
            Expr::Text {
                property,
                function,
                needle,
            } => match Lit::of(record.get(property), Kind::Text) {
                Lit::Text(text) => match function {
                    TextFn::Contains => text.contains(needle.as_str()),
                    TextFn::StartsWith => text.starts_with(needle.as_str()),
                    TextFn::EndsWith => text.ends_with(needle.as_str()),
                },
                _ => false,
            },
            Expr::In {
                property,
                kind,
                values,
                negate,
            } => {
                let actual = Lit::of(record.get(property), *kind);
                if actual == Lit::Null {
                    return false;
                }
                let found = values.iter().any(|v| actual.order(v) == Ordering::Equal);
                found != *negate
            }
        }
    }
}

/// Parses and types `text` against `columns`.
pub fn parse(text: &str, columns: &dyn Columns) -> Result<Expr, ApiError> {
    let tokens = lex(text)?;
    let mut parser = Parser {
        text,
        tokens,
        at: 0,
        columns,
    };
    let expr = parser.or()?;
    if parser.at < parser.tokens.len() {
        return Err(parser.syntax());
    }
    Ok(expr)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    Comma,
    Equals,
    OpenBracket,
    CloseBracket,
    /// A quoted string (single or double quotes), unescaped.
    Quoted(String),
    /// An identifier, keyword or unquoted literal.
    Word(String),
}

fn lex(text: &str) -> Result<Vec<(usize, Tok)>, ApiError> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let single = match c {
            '(' => Some(Tok::Open),
            ')' => Some(Tok::Close),
            ',' => Some(Tok::Comma),
            '=' => Some(Tok::Equals),
            '[' => Some(Tok::OpenBracket),
            ']' => Some(Tok::CloseBracket),
            _ => None,
        };
        if let Some(token) = single {
            tokens.push((at, token));
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' {
            let mut value = String::new();
            i += 1;
            loop {
                let Some(&(_, ch)) = chars.get(i) else {
                    return Err(ApiError::query(format!(
                        "There is an unterminated literal at position {at} in '{text}'."
                    )));
                };
                i += 1;
                if ch == c {
                    if chars.get(i).is_some_and(|&(_, next)| next == c) {
                        value.push(c);
                        i += 1;
                    } else {
                        break;
                    }
                } else {
                    value.push(ch);
                }
            }
            tokens.push((at, Tok::Quoted(value)));
        } else if c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '$' | '@' | '/' | '+') {
            let start = i;
            while i < chars.len()
                && (chars[i].1.is_alphanumeric()
                    || matches!(chars[i].1, '_' | '-' | '.' | ':' | '$' | '@' | '/' | '+'))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().map(|&(_, ch)| ch).collect();
            tokens.push((at, Tok::Word(word)));
        } else {
            return Err(ApiError::query(format!(
                "Syntax error: character '{c}' is not valid at position {at} in '{text}'."
            )));
        }
    }
    Ok(tokens)
}

/// An operand before typing.
enum Operand {
    Property(String),
    Literal(Lit),
}

fn classify(word: &str) -> Option<Operand> {
    let lit = match word {
        "null" => Lit::Null,
        "true" => Lit::Bool(true),
        "false" => Lit::Bool(false),
        _ if is_guid(word) => Lit::Guid(word.to_lowercase()),
        _ => {
            if let Some(at) = time::parse_datetime(word) {
                Lit::DateTime(at)
            } else if let Some(date) = time::parse_date(word) {
                Lit::Date(date)
            } else if word
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '-' | '.'))
                && let Ok(n) = word.trim_end_matches(['m', 'M']).parse::<f64>()
            {
                Lit::Num(n)
            } else if is_identifier(word) {
                return Some(Operand::Property(word.to_string()));
            } else {
                return None;
            }
        }
    };
    Some(Operand::Literal(lit))
}

fn is_guid(word: &str) -> bool {
    word.len() == 36 && uuid::Uuid::parse_str(word).is_ok()
}

fn is_identifier(word: &str) -> bool {
    let mut chars = word.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<(usize, Tok)>,
    at: usize,
    columns: &'a dyn Columns,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at).map(|(_, t)| t)
    }

    fn peek_word(&self) -> Option<&str> {
        match self.peek() {
            Some(Tok::Word(w)) => Some(w),
            _ => None,
        }
    }

    fn next(&mut self) -> Option<Tok> {
        let token = self.tokens.get(self.at).map(|(_, t)| t.clone());
        self.at += 1;
        token
    }

    fn position(&self) -> usize {
        self.tokens
            .get(self.at)
            .map_or(self.text.len(), |(at, _)| *at)
    }

    fn syntax(&self) -> ApiError {
        ApiError::query(format!(
            "Syntax error at position {} in '{}'.",
            self.position(),
            self.text
        ))
    }

    fn expect(&mut self, token: Tok) -> Result<(), ApiError> {
        if self.peek() == Some(&token) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    fn or(&mut self) -> Result<Expr, ApiError> {
        let mut left = self.and()?;
        while self.peek_word() == Some("or") {
            self.at += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ApiError> {
        let mut left = self.unary()?;
        while self.peek_word() == Some("and") {
            self.at += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ApiError> {
        if self.peek_word() == Some("not") {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ApiError> {
        if self.peek() == Some(&Tok::Open) {
            self.at += 1;
            let inner = self.or()?;
            self.expect(Tok::Close)?;
            return Ok(inner);
        }
        if let Some(word) = self.peek_word().map(str::to_owned)
            && self.tokens.get(self.at + 1).map(|(_, t)| t) == Some(&Tok::Open)
        {
            self.at += 2;
            return self.function(&word);
        }
        self.comparison()
    }

    fn property(&self, name: &str) -> Result<Kind, ApiError> {
        self.columns
            .kind(name)
            .ok_or_else(|| ApiError::no_property(&self.columns.type_name(), name))
    }

    fn operand(&mut self) -> Result<Operand, ApiError> {
        let err = self.syntax();
        match self.next() {
            Some(Tok::Quoted(s)) => Ok(Operand::Literal(Lit::Text(s.to_lowercase()))),
            Some(Tok::Word(w)) => classify(&w).ok_or(err),
            _ => Err(err),
        }
    }

    fn comparison(&mut self) -> Result<Expr, ApiError> {
        let left = self.operand()?;
        let op = self
            .peek_word()
            .and_then(Op::parse)
            .ok_or_else(|| self.syntax())?;
        self.at += 1;
        let right = self.operand()?;
        let (property, op, literal) = match (left, right) {
            (Operand::Property(p), Operand::Literal(l)) => (p, op, l),
            (Operand::Literal(l), Operand::Property(p)) => (p, op.flipped(), l),
            (Operand::Property(_), Operand::Property(_)) => {
                return Err(ApiError::query(format!(
                    "Comparing two columns is not supported by this emulator: '{}'.",
                    self.text
                )));
            }
            (Operand::Literal(_), Operand::Literal(_)) => return Err(self.syntax()),
        };
        let kind = self.property(&property)?;
        let value = literal.to_kind(kind).ok_or_else(|| {
            ApiError::query(format!(
                "A binary operator with incompatible types was detected. Found operand types \
                 '{}' and '{}' for operator kind '{}'.",
                kind.edm(),
                literal.edm(),
                op.kind_name()
            ))
        })?;
        if matches!(value, Lit::Null) || matches!(op, Op::Eq | Op::Ne) || kind != Kind::Boolean {
            Ok(Expr::Compare {
                property,
                kind,
                op,
                value,
            })
        } else {
            Err(self.syntax())
        }
    }

    fn function(&mut self, name: &str) -> Result<Expr, ApiError> {
        match name {
            "contains" | "startswith" | "endswith" => {
                let function = match name {
                    "contains" => TextFn::Contains,
                    "startswith" => TextFn::StartsWith,
                    _ => TextFn::EndsWith,
                };
                let property = match self.next() {
                    Some(Tok::Word(w)) if is_identifier(&w) => w,
                    _ => return Err(self.syntax()),
                };
                if self.property(&property)? != Kind::Text {
                    return Err(ApiError::query(format!(
                        "The function '{name}' applies to text properties only; '{property}' is \
                         not one."
                    )));
                }
                self.expect(Tok::Comma)?;
                let needle = match self.next() {
                    Some(Tok::Quoted(s)) => s.to_lowercase(),
                    _ => return Err(self.syntax()),
                };
                self.expect(Tok::Close)?;
                Ok(Expr::Text {
                    property,
                    function,
                    needle,
                })
            }
            "Microsoft.Dynamics.CRM.In" | "Microsoft.Dynamics.CRM.NotIn" => {
                self.query_in(name.ends_with("NotIn"))
            }
            _ => Err(ApiError::query(format!(
                "The function '{name}' is not supported by this emulator."
            ))),
        }
    }

    /// `(PropertyName='x',PropertyValues=['a','b'])`, the parameters in either order.
    fn query_in(&mut self, negate: bool) -> Result<Expr, ApiError> {
        let mut property = None;
        let mut raw_values = None;
        loop {
            let parameter = match self.next() {
                Some(Tok::Word(w)) => w,
                _ => return Err(self.syntax()),
            };
            self.expect(Tok::Equals)?;
            match parameter.as_str() {
                "PropertyName" => match self.next() {
                    Some(Tok::Quoted(s)) => property = Some(s),
                    _ => return Err(self.syntax()),
                },
                "PropertyValues" => {
                    self.expect(Tok::OpenBracket)?;
                    let mut values = Vec::new();
                    loop {
                        match self.next() {
                            Some(Tok::Quoted(s)) => values.push(s),
                            Some(Tok::CloseBracket) if values.is_empty() => break,
                            _ => return Err(self.syntax()),
                        }
                        match self.next() {
                            Some(Tok::Comma) => continue,
                            Some(Tok::CloseBracket) => break,
                            _ => return Err(self.syntax()),
                        }
                    }
                    raw_values = Some(values);
                }
                other => {
                    return Err(ApiError::query(format!(
                        "The parameter '{other}' is not a parameter of the query function."
                    )));
                }
            }
            match self.next() {
                Some(Tok::Comma) => continue,
                Some(Tok::Close) => break,
                _ => return Err(self.syntax()),
            }
        }
        let (Some(property), Some(raw_values)) = (property, raw_values) else {
            return Err(ApiError::query(
                "The query function needs the parameters PropertyName and PropertyValues.",
            ));
        };
        let kind = self.property(&property)?;
        let values = raw_values
            .iter()
            .map(|raw| {
                let lit = match kind {
                    Kind::Text => Some(Lit::Text(raw.to_lowercase())),
                    Kind::Integer | Kind::Decimal => raw.trim().parse().ok().map(Lit::Num),
                    Kind::Boolean => raw.parse().ok().map(Lit::Bool),
                    Kind::Guid => uuid::Uuid::parse_str(raw.trim())
                        .ok()
                        .map(|id| Lit::Guid(id.to_string())),
                    Kind::DateTime => time::parse_datetime(raw).map(Lit::DateTime),
                    Kind::Date => time::parse_date(raw).map(Lit::Date),
                };
                lit.ok_or_else(|| {
                    ApiError::query(format!(
                        "The value '{raw}' is not valid for the property '{property}' of type \
                         '{}'.",
                        kind.edm()
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Expr::In {
            property,
            kind,
            values,
            negate,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    struct Test;

    impl Columns for Test {
        fn type_name(&self) -> String {
            "Microsoft.Dynamics.CRM.test".into()
        }

        fn kind(&self, property: &str) -> Option<Kind> {
            Some(match property {
                "name" => Kind::Text,
                "n" => Kind::Integer,
                "id" => Kind::Guid,
                "at" => Kind::DateTime,
                "flag" => Kind::Boolean,
                _ => return None,
            })
        }
    }

    fn record(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn check(filter: &str, value: Value) -> bool {
        parse(filter, &Test).unwrap().matches(&record(value))
    }

    #[test]
    fn comparisons_and_logic() {
        let r = json!({"name": "O'Brian", "n": 5, "id": "0f8fad5b-d9cb-469f-a165-70867728950e",
                       "at": "2026-11-25T15:04:05Z", "flag": true});
        assert!(check("name eq 'O''BRIAN'", r.clone()));
        assert!(check("n gt 4 and (n lt 5 or n le 5)", r.clone()));
        assert!(check("not n eq 4", r.clone()));
        assert!(check("4 lt n", r.clone()));
        assert!(check(
            "id gt 0F8FAD5B-D9CB-469F-A165-70867728950D",
            r.clone()
        ));
        assert!(check(
            "id eq '0f8fad5b-d9cb-469f-a165-70867728950e'",
            r.clone()
        ));
        assert!(check("at ge 2026-11-25T15:04:05Z", r.clone()));
        assert!(!check("at gt 2026-11-25T16:04:05+01:00", r.clone()));
        assert!(check("at gt 2026-11-25", r.clone()));
        assert!(check("flag eq true and name ne null", r.clone()));
        assert!(check(
            "contains(name,'bri') and startswith(name,'o')",
            r.clone()
        ));
        assert!(check(
            "Microsoft.Dynamics.CRM.In(PropertyName='n',PropertyValues=['4','5'])",
            r.clone()
        ));
        assert!(check(
            "Microsoft.Dynamics.CRM.NotIn(PropertyName='name',PropertyValues=[\"x\",\"y\"])",
            r.clone()
        ));
        let empty = json!({"name": null});
        assert!(check("name eq null", empty.clone()));
        assert!(!check("name ne 'x'", empty.clone()));
        assert!(!check("name lt 'x'", empty));
    }

    #[test]
    fn errors() {
        let message = |f: &str| parse(f, &Test).unwrap_err().message;
        assert_eq!(
            message("nope eq 1"),
            "Could not find a property named 'nope' on type 'Microsoft.Dynamics.CRM.test'."
        );
        assert!(message("at ge '2026-11-25T15:04:05Z'").contains("incompatible types"));
        assert!(message("n eq").starts_with("Syntax error"));
        assert!(message("name eq 'x").contains("unterminated"));
        assert!(message("(n eq 1").starts_with("Syntax error"));
        assert!(message("n eq 1 n").starts_with("Syntax error"));
    }
}
