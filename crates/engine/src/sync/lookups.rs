//! Resolving a batch's lookup fields before it is mapped (`mapping/lookup.rs`): every
//! record's key tuple is computed, and the written side is asked once for the tuples this
//! run has not seen yet — one `find` per lookup field and batch (a database answers a few
//! hundred tuples per statement), never one request per record. What each tuple found is
//! kept for the rest of the run. A connector that can only search by reading the whole
//! table (`finds_by_scanning`: the cloud connectors, the in-memory one) has the table read
//! once per run instead, and its index of key tuples kept (memory grows with the looked-up
//! table, not with the synced one).

use std::collections::HashSet;
use std::sync::Arc;

use crate::connectors::find::{self, tuple_text};
use crate::connectors::{Connector, Result, Row};
use crate::mapping::CompiledMapping;
use crate::mapping::locale::Locale;
use crate::mapping::lookup::{CompiledLookup, FieldLookups, Found, LookupResults, results_of};
use crate::value::Value;

/// Fills `results` with what the lookups of `mapping` find for `rows`.
pub(super) async fn resolve(
    writer: &dyn Connector,
    mapping: &CompiledMapping,
    rows: &[Row],
    results: &mut LookupResults,
) -> Result<()> {
    for (written, lookup) in mapping.lookups() {
        let field = results.entry(written.to_owned()).or_default();
        if field.complete {
            continue;
        }
        let tuples = tuples(lookup, rows, mapping.locale()).await;
        let mut seen = HashSet::new();
        let unseen: Vec<Vec<Value>> = tuples
            .into_iter()
            .filter_map(|tuple| {
                let text = tuple_text(&tuple)?;
                (!field.found.contains_key(&text) && seen.insert(text)).then_some(tuple)
            })
            .collect();
        if unseen.is_empty() {
            continue;
        }
        if writer.finds_by_scanning() {
            read_whole_table(writer, lookup, field).await?;
        } else {
            let found = writer
                .find(&lookup.table, &lookup.key_columns(), &unseen)
                .await?;
            field
                .found
                .extend(results_of(&lookup.column, &unseen, found));
        }
    }
    Ok(())
}

/// The key tuples of `rows` (a record whose keys are null or do not convert has none: the
/// mapping reports it), computed off the async threads when a key is an expression.
async fn tuples(lookup: &Arc<CompiledLookup>, rows: &[Row], locale: Locale) -> Vec<Vec<Value>> {
    let compute = move |lookup: &CompiledLookup, rows: &[Row]| -> Vec<Vec<Value>> {
        rows.iter()
            .filter_map(|row| lookup.tuple(row, locale).ok().flatten())
            .collect()
    };
    if !lookup.has_expressions() {
        return compute(lookup, rows);
    }
    let lookup = lookup.clone();
    let rows = rows.to_vec();
    tokio::task::spawn_blocking(move || compute(&lookup, &rows))
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "computing lookup keys stopped unexpectedly");
            Vec::new()
        })
}

/// Reads the looked-up table once and indexes every row by its key tuple.
async fn read_whole_table(
    writer: &dyn Connector,
    lookup: &CompiledLookup,
    field: &mut FieldLookups,
) -> Result<()> {
    let columns = lookup.key_columns();
    field.found.clear();
    find::each_row(writer, &lookup.table, |row| {
        let Some(text) = tuple_text(columns.iter().map(|c| row.get(c).unwrap_or(&Value::Null)))
        else {
            return;
        };
        let value = row.get(&lookup.column).cloned().unwrap_or(Value::Null);
        field
            .found
            .entry(text)
            .and_modify(|found| {
                *found = match found {
                    Found::One(_) => Found::Several(2),
                    Found::Several(n) => Found::Several(*n + 1),
                    Found::Nothing => Found::One(value.clone()),
                }
            })
            .or_insert(Found::One(value));
    })
    .await?;
    field.complete = true;
    Ok(())
}
