//! Reading rows: `GET {entityset}` with `$select`, `$filter`, `$orderby`, `$top`, `$count`
//! and paging (`Prefer: odata.maxpagesize`, `@odata.nextLink`), and `GET {entityset}({id})`.

use std::cmp::Ordering;

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::errors::ApiError;
use super::filter::{self, Columns, Kind, Lit};
use super::options::{Options, Prefer};
use super::org::{Org, Row};
use super::paging::Cookie;
use super::reply::Reply;
use super::schema::{Attribute, Entity};
use super::webapi::Call;

/// The most rows one page holds (and the default page size).
pub const MAX_PAGE: u64 = 5000;

impl Columns for Entity {
    fn type_name(&self) -> String {
        Entity::type_name(self)
    }

    fn kind(&self, property: &str) -> Option<Kind> {
        self.property(property).map(Kind::of)
    }
}

/// The `$select` list as columns; `None` selects every column.
pub fn select(
    entity: &'static Entity,
    options: &Options,
) -> Result<Option<Vec<&'static Attribute>>, ApiError> {
    let Some(names) = options.selected() else {
        return Ok(None);
    };
    names
        .iter()
        .map(|name| {
            entity
                .property(name)
                .ok_or_else(|| ApiError::no_property(&entity.type_name(), name))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A row as the Web API renders it: `@odata.etag`, the selected columns and the primary id.
pub fn render(entity: &Entity, row: &Row, select: Option<&[&Attribute]>) -> Value {
    let mut out = Map::new();
    out.insert("@odata.etag".into(), Value::String(row.etag()));
    match select {
        Some(columns) => {
            for attribute in columns {
                let value = row.values.get(attribute.property).cloned();
                out.insert(attribute.property.into(), value.unwrap_or(Value::Null));
            }
            let id = row.values.get(entity.primary_id).cloned();
            out.insert(entity.primary_id.into(), id.unwrap_or(Value::Null));
        }
        None => out.extend(row.values.clone()),
    }
    Value::Object(out)
}

/// `…/$metadata#accounts(name,revenue)`.
pub fn context(call: &Call, entity: &Entity, select: Option<&[&Attribute]>) -> String {
    let mut context = format!("{}#{}", call.metadata_url(), entity.set_name);
    if let Some(columns) = select {
        let names: Vec<&str> = columns.iter().map(|a| a.property).collect();
        context.push_str(&format!("({})", names.join(",")));
    }
    context
}

/// `GET {entityset}({id})`.
pub fn single(
    org: &Org,
    entity: &'static Entity,
    id: &str,
    call: &Call,
    options: &Options,
) -> Result<Reply, ApiError> {
    if options.filter.is_some() || options.orderby.is_some() || options.top.is_some() {
        return Err(ApiError::query(
            "The query options $filter, $orderby and $top apply to collections only.",
        ));
    }
    let select = select(entity, options)?;
    let row = org
        .get(entity, id)
        .ok_or_else(|| ApiError::record_missing(entity.name, id))?;
    if call.header("if-none-match").as_deref() == Some(row.etag().as_str()) {
        return Ok(Reply::empty(StatusCode::NOT_MODIFIED));
    }
    let mut body = render(entity, row, select.as_deref());
    body["@odata.context"] = Value::String(format!(
        "{}/$entity",
        context(call, entity, select.as_deref())
    ));
    Ok(Reply::json(StatusCode::OK, body))
}

/// One `$orderby` item.
struct Sort {
    property: &'static str,
    kind: Kind,
    descending: bool,
}

fn orderby(entity: &'static Entity, text: Option<&str>) -> Result<Vec<Sort>, ApiError> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    text.split(',')
        .map(|item| {
            let words: Vec<&str> = item.split_whitespace().collect();
            let (name, descending) = match words.as_slice() {
                [name] => (*name, false),
                [name, dir] if dir.eq_ignore_ascii_case("asc") => (*name, false),
                [name, dir] if dir.eq_ignore_ascii_case("desc") => (*name, true),
                _ => {
                    return Err(ApiError::query(format!(
                        "Syntax error in '$orderby={text}'."
                    )));
                }
            };
            let attribute = entity
                .property(name)
                .ok_or_else(|| ApiError::no_property(&entity.type_name(), name))?;
            Ok(Sort {
                property: attribute.property,
                kind: Kind::of(attribute),
                descending,
            })
        })
        .collect()
}

/// The sort key of a row: the `$orderby` values, then the primary id (always ascending).
fn key(row: &Row, entity: &Entity, sorts: &[Sort]) -> Vec<Lit> {
    let mut key: Vec<Lit> = sorts
        .iter()
        .map(|s| Lit::of(row.values.get(s.property), s.kind))
        .collect();
    key.push(Lit::of(row.values.get(entity.primary_id), Kind::Guid));
    key
}

fn compare(a: &[Lit], b: &[Lit], sorts: &[Sort]) -> Ordering {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let ordering = x.order(y);
        let ordering = if sorts.get(i).is_some_and(|s| s.descending) {
            ordering.reverse()
        } else {
            ordering
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

/// The cookie's last row as a sort key.
fn cookie_key(
    cookie: &Cookie,
    entity: &Entity,
    sorts: &[Sort],
    token: &str,
) -> Result<Vec<Lit>, ApiError> {
    let names = sorts
        .iter()
        .map(|s| (s.property, s.kind))
        .chain([(entity.primary_id, Kind::Guid)]);
    if cookie.last.len() != sorts.len() + 1 {
        return Err(ApiError::query(format!(
            "The $skiptoken '{token}' does not belong to this query."
        )));
    }
    names
        .zip(&cookie.last)
        .map(|((property, kind), (name, text))| {
            if name != property {
                return Err(ApiError::query(format!(
                    "The $skiptoken '{token}' does not belong to this query."
                )));
            }
            let value = match (text, kind) {
                (None, _) => Value::Null,
                (Some(t), Kind::Integer | Kind::Decimal) => {
                    t.parse::<f64>().map(Value::from).unwrap_or(Value::Null)
                }
                (Some(t), Kind::Boolean) => Value::Bool(t == "true"),
                (Some(t), _) => Value::String(t.clone()),
            };
            Ok(Lit::of(Some(&value), kind))
        })
        .collect()
}

fn cookie_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// `GET {entityset}`.
pub fn collection(
    org: &Org,
    entity: &'static Entity,
    call: &Call,
    options: &Options,
) -> Result<Reply, ApiError> {
    if options.expand.is_some() {
        return Err(ApiError::query(
            "$expand is not supported by this emulator on entity sets.",
        ));
    }
    let select = select(entity, options)?;
    let filter = options
        .filter
        .as_deref()
        .map(|text| filter::parse(text, entity))
        .transpose()?;
    let sorts = orderby(entity, options.orderby.as_deref())?;
    let cookie = options
        .skiptoken
        .as_deref()
        .map(|token| Cookie::parse(token).map(|c| (c, token)))
        .transpose()?;
    let after = cookie
        .as_ref()
        .map(|(c, token)| cookie_key(c, entity, &sorts, token))
        .transpose()?;

    let mut rows: Vec<(Vec<Lit>, &Row)> = org
        .rows(entity)
        .filter(|row| filter.as_ref().is_none_or(|f| f.matches(&row.values)))
        .map(|row| (key(row, entity, &sorts), row))
        .collect();
    let total = rows.len();
    rows.sort_by(|a, b| compare(&a.0, &b.0, &sorts));
    if let Some(after) = &after {
        rows.retain(|(k, _)| compare(k, after, &sorts) == Ordering::Greater);
    }

    let prefer = Prefer::of(call.headers);
    let page_size = prefer
        .maxpagesize
        .map_or(MAX_PAGE, |n| n.clamp(1, MAX_PAGE));
    // With odata.maxpagesize, $top is ignored (as documented).
    let top = if prefer.maxpagesize.is_some() {
        None
    } else {
        options.top
    };
    let page_number = cookie.as_ref().map_or(1, |(c, _)| c.page.max(1));
    let before = (page_number - 1).saturating_mul(page_size);
    let take = top.map_or(page_size, |t| page_size.min(t.saturating_sub(before)));
    let take = usize::try_from(take).unwrap_or(usize::MAX);
    let more = rows.len() > take && top.is_none_or(|t| before + (take as u64) < t);
    let page = &rows[..take.min(rows.len())];

    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        Value::String(context(call, entity, select.as_deref())),
    );
    if options.count {
        body.insert("@odata.count".into(), json!(total.min(MAX_PAGE as usize)));
    }
    body.insert(
        "value".into(),
        Value::Array(
            page.iter()
                .map(|(_, row)| render(entity, row, select.as_deref()))
                .collect(),
        ),
    );
    if more && let (Some((_, first)), Some((_, last))) = (page.first(), page.last()) {
        let mut last_values: Vec<(String, Option<String>)> = sorts
            .iter()
            .map(|s| {
                (
                    s.property.to_string(),
                    cookie_text(last.values.get(s.property)),
                )
            })
            .collect();
        last_values.push((
            entity.primary_id.to_string(),
            cookie_text(last.values.get(entity.primary_id)),
        ));
        let next = Cookie {
            page: page_number + 1,
            last: last_values,
            first_id: cookie_text(first.values.get(entity.primary_id)).unwrap_or_default(),
        };
        body.insert(
            "@odata.nextLink".into(),
            Value::String(next_link(call, entity, &next)),
        );
    }
    let mut reply = Reply::json(StatusCode::OK, Value::Object(body));
    if let Some(n) = prefer.maxpagesize {
        reply = reply.with("preference-applied", format!("odata.maxpagesize={n}"));
    }
    Ok(reply)
}

/// The request's own URL with the new `$skiptoken` in place of the old.
fn next_link(call: &Call, entity: &Entity, cookie: &Cookie) -> String {
    let mut parts: Vec<&str> = call
        .query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let key = p.split('=').next().unwrap_or_default();
            !matches!(key, "$skiptoken" | "%24skiptoken")
        })
        .collect();
    let token = format!("$skiptoken={}", cookie.to_skiptoken());
    parts.push(&token);
    format!(
        "{}/{}?{}",
        call.root_url(),
        entity.set_name,
        parts.join("&")
    )
}
