//! `POST /crm/v3/objects/{objectType}/search`: filter groups (ORed) of filters (ANDed),
//! one sort, a text query, offset paging capped at 10,000 results.

use std::cmp::Ordering;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::HubSpot;
use super::errors::ApiError;
use super::objects::{parse_body, render, shown_properties};
use super::portal::{ObjectKind, Record};
use super::properties::{PropertyDef, PropertyType, parse_instant, parse_number};

const MAX_GROUPS: usize = 5;
const MAX_FILTERS_PER_GROUP: usize = 6;
const MAX_FILTERS: usize = 18;
const MAX_LIMIT: i64 = 200;
const MAX_RESULTS: u64 = 10_000;
const MAX_QUERY_CHARS: usize = 3_000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchBody {
    #[serde(default)]
    filter_groups: Vec<FilterGroup>,
    /// Filters outside any group (as in the docs' association example): one more group.
    #[serde(default)]
    filters: Vec<Filter>,
    #[serde(default)]
    sorts: Vec<Sort>,
    #[serde(default)]
    properties: Vec<String>,
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    after: Option<Value>,
}

#[derive(Deserialize)]
struct FilterGroup {
    #[serde(default)]
    filters: Vec<Filter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    property_name: String,
    operator: String,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    high_value: Option<Value>,
    #[serde(default)]
    values: Vec<Value>,
}

/// A sort rule: `{"propertyName","direction"}`, or the string form `"prop"` / `"-prop"`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Sort {
    Text(String),
    #[serde(rename_all = "camelCase")]
    Rule {
        property_name: String,
        #[serde(default)]
        direction: Option<String>,
    },
}

/// A comparable value: numbers and instants as numbers, text lowercased (filters are
/// case-insensitive) except for enumerations (case-sensitive).
#[derive(Debug, Clone, PartialEq)]
enum Key {
    Num(f64),
    Text(String),
}

impl Key {
    fn cmp(&self, other: &Key) -> Option<Ordering> {
        match (self, other) {
            (Key::Num(a), Key::Num(b)) => a.partial_cmp(b),
            (Key::Text(a), Key::Text(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

fn wire_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The key of `text` for a property of `def`'s type; `None` when it is not of that type.
fn key_of(def: &PropertyDef, text: &str) -> Option<Key> {
    match def.kind {
        PropertyType::Number => parse_number(text).map(Key::Num),
        PropertyType::Datetime | PropertyType::Date => {
            parse_instant(text).map(|at| Key::Num(at.timestamp_millis() as f64))
        }
        PropertyType::Enumeration => Some(Key::Text(text.to_owned())),
        PropertyType::String | PropertyType::Bool => Some(Key::Text(text.to_lowercase())),
    }
}

fn filter_key(def: &PropertyDef, value: Option<&Value>, what: &str) -> Result<Key, ApiError> {
    let text = value
        .and_then(wire_text)
        .ok_or_else(|| ApiError::validation(format!("Filter on {} needs a {what}.", def.name)))?;
    key_of(def, &text).ok_or_else(|| {
        ApiError::validation(format!(
            "{text} is not a valid {} value for a filter on {}.",
            match def.kind {
                PropertyType::Number => "number",
                PropertyType::Date | PropertyType::Datetime => "date (epoch milliseconds)",
                _ => "filter",
            },
            def.name
        ))
    })
}

/// `*` matches any run of characters; the rest literally (both lowercased).
fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

enum Test {
    Compare(Ordering, bool, Key),
    Neq(Key),
    Between(Key, Key),
    In(Vec<Key>, bool),
    Has(bool),
    Token(String, bool),
}

struct Compiled<'a> {
    def: &'a PropertyDef,
    test: Test,
}

impl Compiled<'_> {
    fn matches(&self, record: &Record) -> bool {
        let key = record
            .properties
            .get(self.def.name)
            .and_then(|v| key_of(self.def, v));
        let ordering = |b: &Key| key.as_ref().and_then(|k| k.cmp(b));
        match &self.test {
            Test::Compare(want, or_equal, bound) => match ordering(bound) {
                Some(Ordering::Equal) => *or_equal,
                Some(o) => o == *want,
                None => false,
            },
            Test::Neq(value) => ordering(value) != Some(Ordering::Equal),
            Test::Between(low, high) => {
                ordering(low).is_some_and(|o| o != Ordering::Less)
                    && ordering(high).is_some_and(|o| o != Ordering::Greater)
            }
            Test::In(values, negate) => {
                let found = key.as_ref().is_some_and(|k| values.contains(k));
                found != *negate
            }
            Test::Has(want) => key.is_some() == *want,
            Test::Token(pattern, negate) => {
                let found = record.properties.get(self.def.name).is_some_and(|v| {
                    let v = v.to_lowercase();
                    wildcard(pattern, &v) || v.split_whitespace().any(|t| wildcard(pattern, t))
                });
                found != *negate
            }
        }
    }
}

fn compile<'a>(kind: &'a ObjectKind, filter: &Filter) -> Result<Compiled<'a>, ApiError> {
    let def = kind.property(&filter.property_name).ok_or_else(|| {
        ApiError::validation(format!(
            "There was a problem with the request: property {} does not exist for {}.",
            filter.property_name, kind.name
        ))
    })?;
    let value = || filter_key(def, filter.value.as_ref(), "value");
    let test = match filter.operator.as_str() {
        "EQ" => Test::Compare(Ordering::Equal, true, value()?),
        "NEQ" => Test::Neq(value()?),
        "LT" => Test::Compare(Ordering::Less, false, value()?),
        "LTE" => Test::Compare(Ordering::Less, true, value()?),
        "GT" => Test::Compare(Ordering::Greater, false, value()?),
        "GTE" => Test::Compare(Ordering::Greater, true, value()?),
        "BETWEEN" => Test::Between(
            value()?,
            filter_key(def, filter.high_value.as_ref(), "highValue")?,
        ),
        op @ ("IN" | "NOT_IN") => {
            if filter.values.is_empty() {
                return Err(ApiError::validation(format!(
                    "{op} on {} needs a values array.",
                    def.name
                )));
            }
            // Strings: the documented rule is that the values must be lowercase; they are
            // compared as given with the lowercased stored value.
            let keys = filter
                .values
                .iter()
                .map(|v| match (def.kind, wire_text(v)) {
                    (PropertyType::String, Some(text)) => Ok(Key::Text(text)),
                    _ => filter_key(def, Some(v), "value"),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Test::In(keys, op == "NOT_IN")
        }
        "HAS_PROPERTY" => Test::Has(true),
        "NOT_HAS_PROPERTY" => Test::Has(false),
        op @ ("CONTAINS_TOKEN" | "NOT_CONTAINS_TOKEN") => {
            let text = filter.value.as_ref().and_then(wire_text).ok_or_else(|| {
                ApiError::validation(format!("{op} on {} needs a value.", def.name))
            })?;
            Test::Token(text.to_lowercase(), op == "NOT_CONTAINS_TOKEN")
        }
        other => {
            return Err(ApiError::validation(format!(
                "Unknown filter operator: {other}"
            )));
        }
    };
    Ok(Compiled { def, test })
}

fn parse_after(after: Option<&Value>) -> Result<u64, ApiError> {
    let text = match after {
        None | Some(Value::Null) => return Ok(0),
        Some(v) => wire_text(v).unwrap_or_default(),
    };
    if text.is_empty() {
        return Ok(0);
    }
    text.trim().parse::<u64>().map_err(|_| {
        ApiError::validation(format!("after must be formatted as an integer; got {text}"))
    })
}

/// `POST /crm/v3/objects/{objectType}/search`
pub(super) async fn search(
    State(hubspot): State<HubSpot>,
    Path(object_type): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: SearchBody = parse_body(&body)?;
    let portal = hubspot.portal();
    let store = portal.store(&object_type)?;
    let kind = &store.kind;

    let mut groups: Vec<&[Filter]> = body
        .filter_groups
        .iter()
        .map(|g| g.filters.as_slice())
        .collect();
    if !body.filters.is_empty() {
        groups.push(&body.filters);
    }
    let total_filters: usize = groups.iter().map(|g| g.len()).sum();
    if groups.len() > MAX_GROUPS
        || groups.iter().any(|g| g.len() > MAX_FILTERS_PER_GROUP)
        || total_filters > MAX_FILTERS
    {
        return Err(ApiError::validation(format!(
            "Too many filters: at most {MAX_GROUPS} filterGroups, {MAX_FILTERS_PER_GROUP} filters \
             in each and {MAX_FILTERS} in all; got {} groups with {total_filters} filters.",
            groups.len()
        )));
    }
    let compiled: Vec<Vec<Compiled>> = groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|f| compile(kind, f))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<_, _>>()?;

    let query = body
        .query
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_lowercase();
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::validation(format!(
            "The query can contain at most {MAX_QUERY_CHARS} characters."
        )));
    }

    if body.sorts.len() > 1 {
        return Err(ApiError::validation(
            "Only one sorting rule can be applied to any search.",
        ));
    }
    let sort = match body.sorts.first() {
        None => None,
        Some(rule) => {
            let (name, direction) = match rule {
                Sort::Text(text) => match text.strip_prefix('-') {
                    Some(name) => (name, "DESCENDING"),
                    None => (text.as_str(), "ASCENDING"),
                },
                Sort::Rule {
                    property_name,
                    direction,
                } => (
                    property_name.as_str(),
                    direction.as_deref().unwrap_or("ASCENDING"),
                ),
            };
            let def = kind.property(name).ok_or_else(|| {
                ApiError::validation(format!("Cannot sort on {name}: no such property."))
            })?;
            let descending = match direction {
                "ASCENDING" => false,
                "DESCENDING" => true,
                other => {
                    return Err(ApiError::validation(format!(
                        "Sort direction must be ASCENDING or DESCENDING; got {other}"
                    )));
                }
            };
            Some((def, descending))
        }
    };

    let limit = body.limit.unwrap_or(10);
    if !(0..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::validation(format!(
            "limit must be between 0 and {MAX_LIMIT}; got {limit}"
        )));
    }
    let limit = limit as u64;
    let after = parse_after(body.after.as_ref())?;
    if after >= MAX_RESULTS {
        return Err(ApiError::validation(format!(
            "The search endpoints are limited to {MAX_RESULTS} total results for any given query; \
             after={after} pages beyond that."
        )));
    }

    // Archived objects never appear in search results.
    let mut matched: Vec<&Record> = store
        .records
        .values()
        .filter(|r| r.archived_at.is_none())
        .filter(|r| compiled.is_empty() || compiled.iter().any(|g| g.iter().all(|f| f.matches(r))))
        .filter(|r| {
            query.is_empty()
                || kind.searchable.iter().any(|name| {
                    r.properties
                        .get(*name)
                        .is_some_and(|v| v.to_lowercase().contains(&query))
                })
        })
        .collect();
    // Records come in id (= creation) order; a sort keeps it among equals. Records without
    // a value for the sort property come last.
    if let Some((def, descending)) = sort {
        let key = |r: &Record| r.properties.get(def.name).and_then(|v| key_of(def, v));
        matched.sort_by(|a, b| match (key(a), key(b)) {
            (Some(x), Some(y)) => {
                let o = x.cmp(&y).unwrap_or(Ordering::Equal);
                if descending { o.reverse() } else { o }
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        });
    }

    let total = matched.len() as u64;
    let shown = shown_properties(kind, &body.properties);
    let results: Vec<Value> = matched
        .iter()
        .skip(after as usize)
        .take(limit as usize)
        .map(|r| render(r, &shown))
        .collect();
    let mut answer = json!({ "total": total, "results": results });
    if limit > 0 && after + limit < total {
        answer["paging"] = json!({"next": {"after": (after + limit).to_string()}});
    }
    Ok(Json(answer))
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcards_match_tokens() {
        assert!(wildcard("*@hubspot.com", "ann@hubspot.com"));
        assert!(!wildcard("*@hubspot.com", "ann@example.com"));
        assert!(wildcard("an*", "ann"));
        assert!(wildcard("ann", "ann"));
    }
}
