//! First-run matching: records both sides already hold are paired by their match keys
//! instead of being copied twice.
//!
//! At the start of a full pass (the first run, or after LastSyncTime is reset) the task's
//! unpaired target records are read into an index of their keys (one entry per record:
//! memory grows with the unpaired target rows), then the unpaired source records are looked
//! up in it. A key found once on each side pairs the two records (the pass then updates the
//! target copy from the source: the source wins). A key found on both sides but more than
//! once on either is *ambiguous*: those records are held — neither paired nor copied — and
//! reported with the key and the records it matched, until a person fixes the data and a
//! full pass matches again. Records with a null key part, or whose key is on one side only,
//! are copied as usual. Matching is idempotent (paired records are skipped), so a pass
//! resumed after a crash matches again before it goes on.

use std::collections::{BTreeMap, HashMap};

use crate::connectors::{Key, Row, TableSchema};
use crate::mapping::MappingError;
use crate::mapping::expression::Expression;
use crate::mapping::locale::Locale;
use crate::package::{FieldSource, MatchSpec};
use crate::value::Family;

use super::{Side, StateStore, SyncError, TaskPlan};

/// A task's match keys, compiled against its two tables.
#[derive(Debug, Clone)]
pub struct Matching {
    source: Vec<Part>,
    target: Vec<Part>,
    fold: bool,
}

#[derive(Debug, Clone)]
enum Part {
    Column(String),
    Expression(Expression),
}

impl Matching {
    /// Checks the keys against the tables: columns exist, expressions compile, and the two
    /// sides of a key compare values of one kind (an expression compares as text).
    pub fn compile(
        spec: &MatchSpec,
        source: &TableSchema,
        target: &TableSchema,
    ) -> Result<Matching, MappingError> {
        let mut parts = (Vec::new(), Vec::new());
        for (i, key) in spec.keys.iter().enumerate() {
            let at = |side: &str| format!("match.keys[{i}].{side}");
            let part = |side: &str, field: &FieldSource, table: &TableSchema| match field {
                FieldSource::Column(c) => match table.column(c) {
                    Some(info) => Ok((Part::Column(c.clone()), info.ty.family())),
                    None => Err(MappingError {
                        column: at(side),
                        message: format!("{} has no column “{c}”", table.table),
                    }),
                },
                FieldSource::Expression(e) => Expression::compile(e, table)
                    .map(|e| (Part::Expression(e), Family::Text))
                    .map_err(|e| MappingError {
                        column: at(side),
                        message: e.to_string(),
                    }),
                _ => Err(MappingError {
                    column: at(side),
                    message: "a match key is a column or an expression".into(),
                }),
            };
            let (s, s_family) = part("source", &key.source, source)?;
            let (t, t_family) = part("target", &key.target, target)?;
            let either_text = s_family == Family::Text || t_family == Family::Text;
            if s_family != t_family && !either_text {
                return Err(MappingError {
                    column: format!("match.keys[{i}]"),
                    message: format!(
                        "the two sides of this key hold different kinds of values ({s_family:?} and {t_family:?}); \
                         match columns of the same type, or compare expressions as text"
                    ),
                });
            }
            parts.0.push(s);
            parts.1.push(t);
        }
        Ok(Matching {
            source: parts.0,
            target: parts.1,
            fold: spec.ignore_case_and_spaces,
        })
    }

    /// A record's key as compared, or None when a part is null (such a record is not
    /// matched).
    fn key(&self, side: Side, row: &Row) -> Option<String> {
        let parts = match side {
            Side::Source => &self.source,
            Side::Target => &self.target,
        };
        let mut key = String::new();
        for (i, part) in parts.iter().enumerate() {
            let value = match part {
                Part::Column(c) => row.get(c).cloned()?,
                Part::Expression(e) => e.evaluate(row, Locale::Invariant).ok()?,
            };
            if value.is_null() {
                return None;
            }
            let text = value.to_invariant_text();
            if i > 0 {
                key.push('\u{1f}');
            }
            if self.fold {
                key.push_str(&text.trim().to_lowercase());
            } else {
                key.push_str(&text);
            }
        }
        Some(key)
    }
}

/// A key found on both sides more than once on either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ambiguous {
    /// The key as compared (parts separated by `|` here).
    pub value: String,
    pub source: Vec<Key>,
    pub target: Vec<Key>,
}

impl Ambiguous {
    pub fn message(&self) -> String {
        let keys = |k: &[Key]| {
            k.iter()
                .map(|k| k.0.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "the match key “{}” is held by {} source record(s) ({}) and {} target record(s) ({}): \
             neither paired nor copied; make the key unique on each side, then reset LastSyncTime",
            self.value,
            self.source.len(),
            keys(&self.source),
            self.target.len(),
            keys(&self.target)
        )
    }
}

/// What matching found among the unpaired records.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MatchReport {
    /// (source key, target key) pairs with equal keys.
    pub paired: Vec<(Key, Key)>,
    pub ambiguous: Vec<Ambiguous>,
    /// Unpaired records whose key the other side does not hold (or that have no key): copied.
    pub new_on_source: u64,
    pub new_on_target: u64,
}

/// Reads both sides' unpaired records and finds the pairs; writes nothing (the matching
/// preview shows this; a full pass then records the pairs and holds the ambiguous records).
pub async fn find_matches(
    plan: &TaskPlan<'_>,
    matching: &Matching,
    state: &dyn StateStore,
    batch: usize,
) -> Result<MatchReport, SyncError> {
    let failed = |side: Side| {
        move |source| SyncError::Connector {
            side: side.as_str(),
            source,
        }
    };
    // Unpaired target records by key.
    let mut index: HashMap<String, Vec<Key>> = HashMap::new();
    let mut unpaired_targets = 0u64;
    let mut after: Option<Key> = None;
    loop {
        let rows = plan
            .target
            .scan(&plan.target_schema, after.as_ref(), batch)
            .await
            .map_err(failed(Side::Target))?;
        let Some((last, _)) = rows.last() else { break };
        after = Some(last.clone());
        let keys: Vec<Key> = rows.iter().map(|(k, _)| k.clone()).collect();
        let paired = state.counterparts(plan.id, Side::Target, &keys).await?;
        for (key, row) in rows {
            if paired.contains_key(&key) {
                continue;
            }
            unpaired_targets += 1;
            if let Some(value) = matching.key(Side::Target, &row) {
                index.entry(value).or_default().push(key);
            }
        }
    }
    // Unpaired source records found in the index.
    let mut found: BTreeMap<String, Vec<Key>> = BTreeMap::new();
    let mut report = MatchReport::default();
    let mut after: Option<Key> = None;
    loop {
        let rows = plan
            .source
            .scan(&plan.source_schema, after.as_ref(), batch)
            .await
            .map_err(failed(Side::Source))?;
        let Some((last, _)) = rows.last() else { break };
        after = Some(last.clone());
        let keys: Vec<Key> = rows.iter().map(|(k, _)| k.clone()).collect();
        let paired = state.counterparts(plan.id, Side::Source, &keys).await?;
        for (key, row) in rows {
            if paired.contains_key(&key) {
                continue;
            }
            match matching.key(Side::Source, &row) {
                Some(value) if index.contains_key(&value) => {
                    found.entry(value).or_default().push(key)
                }
                _ => report.new_on_source += 1,
            }
        }
    }
    let mut matched_targets = 0u64;
    for (value, source) in found {
        let target = index.remove(&value).unwrap_or_default();
        matched_targets += target.len() as u64;
        match (source.as_slice(), target.as_slice()) {
            ([s], [t]) => report.paired.push((s.clone(), t.clone())),
            _ => report.ambiguous.push(Ambiguous {
                value: value.replace('\u{1f}', "|"),
                source,
                target,
            }),
        }
    }
    report.new_on_target = unpaired_targets - matched_targets;
    Ok(report)
}
