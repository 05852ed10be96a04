//! Runs a parsed SOQL query over an object's records: field names resolved against describe
//! (case-insensitively), filter values type-checked as SOQL does, then filter, sort, offset, limit.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::errors::ApiError;
use super::ids;
use super::org::Record;
use super::schema::{Field, FieldType, SObject};
use super::soql::{CmpOp, Cond, Lit, OrderBy, Query, Selection};
use super::time;

/// A query checked against its object: every name is the describe spelling.
pub struct Plan<'a> {
    pub object: &'a SObject,
    /// `None` for `COUNT()`.
    pub fields: Option<Vec<&'static str>>,
    filter: Option<Cond>,
    order: Vec<OrderBy>,
    limit: Option<usize>,
    offset: Option<usize>,
}

fn no_such_column(name: &str, object: &SObject) -> ApiError {
    ApiError::bad_request(
        "INVALID_FIELD",
        format!(
            "No such column '{name}' on entity '{}'. If you are attempting to use a custom \
             field, be sure to append the '__c' after the custom field name. Please reference \
             your WSDL or the describe call for the appropriate names.",
            object.name
        ),
    )
}

fn field<'a>(object: &'a SObject, name: &str) -> Result<&'a Field, ApiError> {
    object
        .field(name)
        .ok_or_else(|| no_such_column(name, object))
}

/// Checks `query` against `object`.
pub fn plan(query: Query, object: &SObject) -> Result<Plan<'_>, ApiError> {
    let fields = match &query.selection {
        Selection::Count => None,
        Selection::Fields(names) => {
            let mut fields: Vec<&'static str> = Vec::new();
            for name in names {
                let f = field(object, name)?;
                if fields.contains(&f.name) {
                    return Err(ApiError::bad_request(
                        "MALFORMED_QUERY",
                        format!("duplicate field selected: {}", f.name),
                    ));
                }
                fields.push(f.name);
            }
            Some(fields)
        }
    };
    if fields.is_none() && !query.order.is_empty() {
        return Err(ApiError::bad_request(
            "MALFORMED_QUERY",
            "ORDER BY can't be used with COUNT()",
        ));
    }
    let filter = query
        .filter
        .map(|cond| resolve_cond(cond, object))
        .transpose()?;
    let mut order = Vec::new();
    for mut item in query.order {
        let f = field(object, &item.field)?;
        if !f.filterable() {
            return Err(ApiError::bad_request(
                "INVALID_FIELD",
                format!("field '{}' can not be sorted in a query call", f.name),
            ));
        }
        item.field = f.name.to_string();
        order.push(item);
    }
    Ok(Plan {
        object,
        fields,
        filter,
        order,
        limit: query.limit,
        offset: query.offset,
    })
}

/// Field names to describe spelling, literals checked against (and converted to) field types.
fn resolve_cond(cond: Cond, object: &SObject) -> Result<Cond, ApiError> {
    Ok(match cond {
        Cond::And(terms) => Cond::And(
            terms
                .into_iter()
                .map(|t| resolve_cond(t, object))
                .collect::<Result<_, _>>()?,
        ),
        Cond::Or(terms) => Cond::Or(
            terms
                .into_iter()
                .map(|t| resolve_cond(t, object))
                .collect::<Result<_, _>>()?,
        ),
        Cond::Not(inner) => Cond::Not(Box::new(resolve_cond(*inner, object)?)),
        Cond::Cmp {
            field: name,
            op,
            value,
        } => {
            let f = filter_field(object, &name)?;
            if f.ftype == FieldType::Boolean && !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                return Err(ApiError::bad_request(
                    "INVALID_QUERY_FILTER_OPERATOR",
                    format!("invalid operator on boolean field: {}", f.name),
                ));
            }
            Cond::Cmp {
                field: f.name.to_string(),
                op,
                value: check_literal(f, value)?,
            }
        }
        Cond::In {
            field: name,
            negated,
            values,
        } => {
            let f = filter_field(object, &name)?;
            Cond::In {
                field: f.name.to_string(),
                negated,
                values: values
                    .into_iter()
                    .map(|v| check_literal(f, v))
                    .collect::<Result<_, _>>()?,
            }
        }
        Cond::Like {
            field: name,
            pattern,
        } => {
            let f = filter_field(object, &name)?;
            if !f.ftype.is_text() {
                return Err(ApiError::bad_request(
                    "INVALID_QUERY_FILTER_OPERATOR",
                    format!(
                        "invalid operator on field: {} (LIKE needs a text field)",
                        f.name
                    ),
                ));
            }
            Cond::Like {
                field: f.name.to_string(),
                pattern,
            }
        }
    })
}

fn filter_field<'a>(object: &'a SObject, name: &str) -> Result<&'a Field, ApiError> {
    let f = field(object, name)?;
    if !f.filterable() {
        return Err(ApiError::bad_request(
            "INVALID_FIELD",
            format!("field '{}' can not be filtered in a query call", f.name),
        ));
    }
    Ok(f)
}

/// SOQL is typed: strings quoted for text fields, unquoted values for the others.
fn check_literal(f: &Field, value: Lit) -> Result<Lit, ApiError> {
    let (ok, expected, quoted) = match (&value, f.ftype) {
        (Lit::Null, _) => (true, "", false),
        (Lit::Str(_), t) if t.is_text() => (true, "", true),
        (_, t) if t.is_text() => (false, "string", true),
        (Lit::Bool(_), FieldType::Boolean) => (true, "", false),
        (_, FieldType::Boolean) => (false, "boolean", false),
        (Lit::Num(_), t) if t.is_number() => (true, "", false),
        (_, FieldType::Int) => (false, "int", false),
        (_, t) if t.is_number() => (false, "double", false),
        (Lit::Date(_), FieldType::Date) => (true, "", false),
        (_, FieldType::Date) => (false, "date", false),
        (Lit::DateTime(_), FieldType::Datetime) => (true, "", false),
        _ => (false, "dateTime", false),
    };
    if !ok {
        let quoting = if quoted {
            "should be enclosed in quotes"
        } else {
            "should not be enclosed in quotes"
        };
        return Err(ApiError::bad_request(
            "INVALID_QUERY_FILTER_OPERATOR",
            format!(
                "value of filter criterion for field '{}' must be of type {expected} and {quoting}",
                f.name
            ),
        ));
    }
    // Ids compare in their 18-character form.
    Ok(match value {
        Lit::Str(s) if f.ftype.is_id() => Lit::Str(ids::normalize(&s).unwrap_or(s)),
        other => other,
    })
}

/// A record's value of a field, typed for comparison.
#[derive(Debug, Clone, PartialEq)]
enum Typed {
    Null,
    /// Text compared case-insensitively (the lowered form), as SOQL does.
    Text(String),
    /// Ids compared exactly.
    Id(String),
    Num(f64),
    Bool(bool),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
}

fn typed(object: &SObject, record: &Record, name: &str) -> Typed {
    let Some(f) = object.field(name) else {
        return Typed::Null;
    };
    let value = record.get(f.name).unwrap_or(&Value::Null);
    match (value, f.ftype) {
        (Value::Null, _) => Typed::Null,
        (Value::String(s), t) if t.is_id() => Typed::Id(s.clone()),
        (Value::String(s), t) if t.is_text() => Typed::Text(s.to_lowercase()),
        (Value::String(s), FieldType::Date) => time::parse_date(s).map_or(Typed::Null, Typed::Date),
        (Value::String(s), FieldType::Datetime) => {
            time::parse_datetime(s).map_or(Typed::Null, Typed::DateTime)
        }
        (Value::Bool(b), _) => Typed::Bool(*b),
        (Value::Number(n), _) => n.as_f64().map_or(Typed::Null, Typed::Num),
        _ => Typed::Null,
    }
}

fn lit_typed(lit: &Lit, like: &Typed) -> Typed {
    match lit {
        Lit::Null => Typed::Null,
        Lit::Str(s) if matches!(like, Typed::Id(_)) => Typed::Id(s.clone()),
        Lit::Str(s) => Typed::Text(s.to_lowercase()),
        Lit::Num(n) => Typed::Num(*n),
        Lit::Bool(b) => Typed::Bool(*b),
        Lit::Date(d) => Typed::Date(*d),
        Lit::DateTime(at) => Typed::DateTime(*at),
    }
}

/// Orders two non-null values of one type.
fn compare(a: &Typed, b: &Typed) -> Option<Ordering> {
    match (a, b) {
        (Typed::Text(x), Typed::Text(y)) | (Typed::Id(x), Typed::Id(y)) => Some(x.cmp(y)),
        (Typed::Num(x), Typed::Num(y)) => x.partial_cmp(y),
        (Typed::Bool(x), Typed::Bool(y)) => Some(x.cmp(y)),
        (Typed::Date(x), Typed::Date(y)) => Some(x.cmp(y)),
        (Typed::DateTime(x), Typed::DateTime(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// The id-or-text form of a record value for a field, so that a literal can be typed alike.
fn record_value_shape(object: &SObject, name: &str) -> Typed {
    match object.field(name).map(|f| f.ftype) {
        Some(t) if t.is_id() => Typed::Id(String::new()),
        _ => Typed::Text(String::new()),
    }
}

fn matches(object: &SObject, record: &Record, cond: &Cond) -> bool {
    match cond {
        Cond::And(terms) => terms.iter().all(|t| matches(object, record, t)),
        Cond::Or(terms) => terms.iter().any(|t| matches(object, record, t)),
        Cond::Not(inner) => !matches(object, record, inner),
        Cond::Cmp { field, op, value } => {
            let have = typed(object, record, field);
            let want = lit_typed(value, &record_value_shape(object, field));
            match (op, &have, &want) {
                (CmpOp::Eq, _, _) => have == want,
                // `!=` matches nulls, unlike SQL.
                (CmpOp::Ne, _, _) => have != want,
                (_, Typed::Null, _) | (_, _, Typed::Null) => false,
                (op, _, _) => compare(&have, &want).is_some_and(|o| match op {
                    CmpOp::Lt => o == Ordering::Less,
                    CmpOp::Le => o != Ordering::Greater,
                    CmpOp::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                }),
            }
        }
        Cond::In {
            field,
            negated,
            values,
        } => {
            let have = typed(object, record, field);
            let shape = record_value_shape(object, field);
            let found = values.iter().any(|v| lit_typed(v, &shape) == have);
            found != *negated
        }
        Cond::Like { field, pattern } => match typed(object, record, field) {
            Typed::Text(s) | Typed::Id(s) => like(&s.to_lowercase(), &pattern.to_lowercase()),
            _ => false,
        },
    }
}

/// `%` any run, `_` one character, `\%` and `\_` themselves.
fn like(text: &str, pattern: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum P {
        Any,
        One,
        Char(char),
    }
    let mut parts = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        parts.push(match c {
            '%' => P::Any,
            '_' => P::One,
            '\\' => P::Char(chars.next().unwrap_or('\\')),
            c => P::Char(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    // matched[j]: the first i characters of text match the first j parts.
    let mut matched = vec![false; parts.len() + 1];
    matched[0] = true;
    for j in 0..parts.len() {
        if parts[j] == P::Any && matched[j] {
            matched[j + 1] = true;
        }
    }
    for c in &text {
        let mut next = vec![false; parts.len() + 1];
        for j in 0..parts.len() {
            next[j + 1] = match parts[j] {
                P::Any => next[j] || matched[j + 1],
                P::One => matched[j],
                P::Char(p) => matched[j] && p == *c,
            };
        }
        matched = next;
    }
    matched[parts.len()]
}

fn order_records(object: &SObject, a: &Record, b: &Record, order: &[OrderBy]) -> Ordering {
    for item in order {
        let x = typed(object, a, &item.field);
        let y = typed(object, b, &item.field);
        let o = match (&x, &y) {
            (Typed::Null, Typed::Null) => Ordering::Equal,
            (Typed::Null, _) => {
                if item.nulls_last {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (_, Typed::Null) => {
                if item.nulls_last {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            _ => {
                let o = compare(&x, &y).unwrap_or(Ordering::Equal);
                if item.descending { o.reverse() } else { o }
            }
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

impl Plan<'_> {
    /// The matching records (ordered by Id unless ORDER BY says otherwise), offset and limit
    /// applied.
    pub fn run<'r>(&self, records: impl Iterator<Item = &'r Record>) -> Vec<&'r Record> {
        let mut rows: Vec<&Record> = records
            .filter(|r| {
                self.filter
                    .as_ref()
                    .is_none_or(|cond| matches(self.object, r, cond))
            })
            .collect();
        if !self.order.is_empty() {
            rows.sort_by(|a, b| order_records(self.object, a, b, &self.order));
        }
        let offset = self.offset.unwrap_or(0).min(rows.len());
        let rows = rows.split_off(offset);
        match self.limit {
            Some(limit) => rows.into_iter().take(limit).collect(),
            None => rows,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns() {
        assert!(super::like("acme corp", "acme%"));
        assert!(super::like("acme", "a_me"));
        assert!(super::like("100%", "100\\%"));
        assert!(!super::like("acme", "acme_"));
        assert!(super::like("", "%"));
    }
}
