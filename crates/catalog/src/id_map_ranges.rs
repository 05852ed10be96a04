//! Runs of consecutive integer keys in the ID map (`id_map_ranges`, one row per run).
//!
//! A first run copies rows in key order into a table whose keys come from a sequence, so
//! its pairs come as runs: source 1001, 1002, 1003 … ↔ target 7, 8, 9 …. Stored as one row
//! per run (first source key, first target key, length), the map costs one row per batch
//! instead of one row (and two index entries) per record — which cost more than writing the
//! copied row itself. Only pairs known to be new are stored as runs (`add_new_pairs`, a
//! first run's copies); a key is in at most one place, a pair of `id_map` or one run, and
//! every other change to the map first takes its keys out of any run (`take_out`).
//!
//! Keys are text everywhere else; only the canonical decimal form of an `i64` (no `+`, no
//! leading zero, no `-0`) counts as an integer here, so a key's text is recovered exactly.

use std::collections::{BTreeMap, BTreeSet};

use engine::connectors::Key;
use sqlx::PgConnection;
use uuid::Uuid;

/// Source keys `source_first ..` paired in step with target keys `target_first ..`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub source_first: i64,
    pub target_first: i64,
    pub length: i64,
}

/// The key as an integer, when its text is the integer's canonical form.
pub fn integer(key: &Key) -> Option<i64> {
    let text = key.0.as_str();
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
        || text == "-0"
    {
        return None;
    }
    text.parse().ok()
}

/// Splits pairs, in their order, into runs of at least two and the pairs left over.
pub fn runs(pairs: &[(Key, Key)]) -> (Vec<Run>, Vec<(Key, Key)>) {
    let mut runs = Vec::new();
    let mut single = Vec::new();
    // The run being built, and where it started in `pairs`.
    let mut open: Option<(Run, usize)> = None;
    let close = |open: Option<(Run, usize)>, runs: &mut Vec<Run>, single: &mut Vec<_>| {
        if let Some((run, from)) = open {
            if run.length >= 2 {
                runs.push(run);
            } else {
                single.extend_from_slice(&pairs[from..from + run.length as usize]);
            }
        }
    };
    for (n, (source, target)) in pairs.iter().enumerate() {
        let (Some(s), Some(t)) = (integer(source), integer(target)) else {
            close(open.take(), &mut runs, &mut single);
            single.push((source.clone(), target.clone()));
            continue;
        };
        if let Some((run, _)) = &mut open
            && run.source_first.checked_add(run.length) == Some(s)
            && run.target_first.checked_add(run.length) == Some(t)
        {
            run.length += 1;
            continue;
        }
        close(open.take(), &mut runs, &mut single);
        open = Some((
            Run {
                source_first: s,
                target_first: t,
                length: 1,
            },
            n,
        ));
    }
    close(open, &mut runs, &mut single);
    (runs, single)
}

/// What is left of `run` without the pairs at `offsets`: shorter runs, and single pairs.
pub fn without(run: Run, offsets: &BTreeSet<i64>) -> (Vec<Run>, Vec<(Key, Key)>) {
    let mut pieces = Vec::new();
    let mut single = Vec::new();
    let mut keep = |from: i64, to: i64| {
        let length = to - from;
        let (source, target) = (run.source_first + from, run.target_first + from);
        match length {
            0 => {}
            1 => single.push((Key(source.to_string()), Key(target.to_string()))),
            _ => pieces.push(Run {
                source_first: source,
                target_first: target,
                length,
            }),
        }
    };
    let mut from = 0;
    for &offset in offsets.range(0..run.length) {
        keep(from, offset);
        from = offset + 1;
    }
    keep(from, run.length);
    (pieces, single)
}

pub async fn insert(conn: &mut PgConnection, task: Uuid, runs: &[Run]) -> Result<(), sqlx::Error> {
    if runs.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&Run) -> i64| runs.iter().map(f).collect::<Vec<i64>>();
    sqlx::query(
        "INSERT INTO id_map_ranges (task_id, source_first, target_first, length)
         SELECT $1, s, t, n FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS r(s, t, n)",
    )
    .bind(task)
    .bind(column(|r| r.source_first))
    .bind(column(|r| r.target_first))
    .bind(column(|r| r.length))
    .execute(conn)
    .await?;
    Ok(())
}

/// The runs holding any of these source or target keys (one index probe per key).
async fn holding(
    conn: &mut PgConnection,
    task: Uuid,
    sources: &[i64],
    targets: &[i64],
) -> Result<Vec<Run>, sqlx::Error> {
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT r.source_first, r.target_first, r.length FROM unnest($2::bigint[]) AS k
           CROSS JOIN LATERAL (SELECT * FROM id_map_ranges WHERE task_id = $1 AND source_first <= k
                               ORDER BY source_first DESC LIMIT 1) r
          WHERE k < r.source_first + r.length
         UNION
         SELECT r.source_first, r.target_first, r.length FROM unnest($3::bigint[]) AS k
           CROSS JOIN LATERAL (SELECT * FROM id_map_ranges WHERE task_id = $1 AND target_first <= k
                               ORDER BY target_first DESC LIMIT 1) r
          WHERE k < r.target_first + r.length",
    )
    .bind(task)
    .bind(sources)
    .bind(targets)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(source_first, target_first, length)| Run {
            source_first,
            target_first,
            length,
        })
        .collect())
}

/// Takes these source and target keys out of the runs holding them: each such run is
/// replaced by what is left of it (shorter runs, and single pairs written to `id_map`). The
/// pairs of the keys taken out are gone. Nothing to do, and one query, when no run holds any.
pub async fn take_out(
    conn: &mut PgConnection,
    task: Uuid,
    sources: &[Key],
    targets: &[Key],
) -> Result<(), sqlx::Error> {
    let sources: Vec<i64> = sources.iter().filter_map(integer).collect();
    let targets: Vec<i64> = targets.iter().filter_map(integer).collect();
    if sources.is_empty() && targets.is_empty() {
        return Ok(());
    }
    let runs = holding(conn, task, &sources, &targets).await?;
    if runs.is_empty() {
        return Ok(());
    }
    let mut offsets: BTreeMap<i64, (Run, BTreeSet<i64>)> = runs
        .into_iter()
        .map(|run| (run.source_first, (run, BTreeSet::new())))
        .collect();
    for (run, taken) in offsets.values_mut() {
        let span = |first: i64, k: i64| (first..first + run.length).contains(&k);
        taken.extend(
            sources
                .iter()
                .filter(|k| span(run.source_first, **k))
                .map(|k| k - run.source_first),
        );
        taken.extend(
            targets
                .iter()
                .filter(|k| span(run.target_first, **k))
                .map(|k| k - run.target_first),
        );
    }
    let firsts: Vec<i64> = offsets.keys().copied().collect();
    sqlx::query("DELETE FROM id_map_ranges WHERE task_id = $1 AND source_first = ANY($2)")
        .bind(task)
        .bind(&firsts)
        .execute(&mut *conn)
        .await?;
    let mut pieces = Vec::new();
    let mut single: Vec<(Key, Key)> = Vec::new();
    for (run, taken) in offsets.into_values() {
        let (p, s) = without(run, &taken);
        pieces.extend(p);
        single.extend(s);
    }
    insert(conn, task, &pieces).await?;
    if !single.is_empty() {
        let (s, t): (Vec<String>, Vec<String>) =
            single.into_iter().map(|(s, t)| (s.0, t.0)).unzip();
        sqlx::query(
            "INSERT INTO id_map (task_id, source_key, target_key)
             SELECT $1, s, t FROM unnest($2::text[], $3::text[]) AS p(s, t)",
        )
        .bind(task)
        .bind(s)
        .bind(t)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(s: &str, t: &str) -> (Key, Key) {
        (Key(s.into()), Key(t.into()))
    }

    #[test]
    fn only_canonical_integers_count() {
        for (text, value) in [("0", Some(0)), ("42", Some(42)), ("-7", Some(-7))] {
            assert_eq!(integer(&Key(text.into())), value, "{text}");
        }
        for text in [
            "",
            "-",
            "-0",
            "007",
            "+5",
            " 5",
            "5a",
            "1e3",
            "99999999999999999999",
        ] {
            assert_eq!(integer(&Key(text.into())), None, "{text}");
        }
    }

    #[test]
    fn consecutive_pairs_make_runs_and_the_rest_stays_single() {
        let pairs = [
            pair("1", "10"),
            pair("2", "11"),
            pair("3", "12"),
            pair("5", "13"), // a gap in the source
            pair("abc", "14"),
            pair("6", "15"),
            pair("7", "16"),
            pair("08", "17"), // not canonical
        ];
        let (runs, single) = runs(&pairs);
        assert_eq!(
            runs,
            vec![
                Run {
                    source_first: 1,
                    target_first: 10,
                    length: 3
                },
                Run {
                    source_first: 6,
                    target_first: 15,
                    length: 2
                }
            ]
        );
        assert_eq!(
            single,
            vec![pair("5", "13"), pair("abc", "14"), pair("08", "17")]
        );
    }

    #[test]
    fn taking_pairs_out_of_a_run_leaves_the_rest() {
        let run = Run {
            source_first: 100,
            target_first: 0,
            length: 6,
        };
        let (pieces, single) = without(run, &[1, 4].into_iter().collect());
        assert_eq!(
            pieces,
            vec![Run {
                source_first: 102,
                target_first: 2,
                length: 2
            }]
        );
        assert_eq!(single, vec![pair("100", "0"), pair("105", "5")]);
        let (pieces, single) = without(run, &(0..6).collect());
        assert!(pieces.is_empty() && single.is_empty());
    }
}
