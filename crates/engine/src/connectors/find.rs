//! Finding rows by the values of some of their columns (lookup mappings): the default that
//! any connector can use — read the whole table in key order and compare — and the text form
//! values are compared in.

use std::collections::HashMap;

use super::{Connector, Result, Row, TableSchema};
use crate::value::Value;

/// How many rows a scan reads per page.
const PAGE: usize = 1000;

/// The values of a tuple as compared, or None when one is null (null equals nothing).
/// Values are first converted to their column's type, so equal values have equal text.
pub fn tuple_text<'a>(values: impl IntoIterator<Item = &'a Value>) -> Option<Vec<String>> {
    values
        .into_iter()
        .map(|v| (!v.is_null()).then(|| v.to_invariant_text()))
        .collect()
}

/// Reads all of `table` and returns the rows whose `columns` equal one of `tuples` exactly,
/// each with the index of the tuple it matched.
pub async fn by_scanning(
    connector: &(impl Connector + ?Sized),
    table: &TableSchema,
    columns: &[String],
    tuples: &[Vec<Value>],
) -> Result<Vec<(usize, Row)>> {
    let mut wanted: HashMap<Vec<String>, Vec<usize>> = HashMap::new();
    for (i, tuple) in tuples.iter().enumerate() {
        if let Some(text) = tuple_text(tuple) {
            wanted.entry(text).or_default().push(i);
        }
    }
    let mut found = Vec::new();
    if wanted.is_empty() {
        return Ok(found);
    }
    each_row(connector, table, |row| {
        let text = tuple_text(columns.iter().map(|c| row.get(c).unwrap_or(&Value::Null)));
        if let Some(indexes) = text.and_then(|t| wanted.get(&t)) {
            for &i in indexes {
                found.push((i, row.clone()));
            }
        }
    })
    .await?;
    Ok(found)
}

/// Calls `f` with every row of `table`, reading it in key order a page at a time.
pub async fn each_row(
    connector: &(impl Connector + ?Sized),
    table: &TableSchema,
    mut f: impl FnMut(Row),
) -> Result<()> {
    let mut after = None;
    loop {
        let page = connector.scan(table, after.as_ref(), PAGE).await?;
        let Some((last, _)) = page.last() else {
            return Ok(());
        };
        after = Some(last.clone());
        page.into_iter().for_each(|(_, row)| f(row));
    }
}
