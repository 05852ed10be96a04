//! Which records a poll of a cloud object logs as changed. Pure, so the rules are tested
//! without a vendor:
//! - a record re-read inside the overlap window with a stamp already logged is logged once;
//! - the engine's own write is not a change (echo): the record holds, in the fields the
//!   engine wrote, the values it wrote; its stamp lies between the write's `from` and
//!   `until`; and, when the vendor did not say the exact stamp, it was made by the
//!   connection's user. Other values are somebody's edit, whatever the stamp and the user;
//! - with a dedicated account, every change made by the connection's user is ignored;
//! - a deletion is always logged (re-processing one is harmless: a record gone on both sides
//!   is left alone).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

use super::super::Key;

/// What the vendor reported: a record modified (stamp = its modification stamp) or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub key: Key,
    pub stamp: DateTime<Utc>,
    /// The user who made the last modification, when the vendor tells.
    pub modified_by: Option<String>,
    pub deleted: bool,
    /// Of the record's values (modifications), when read.
    pub digest: Option<i64>,
    /// The record's fields as the vendor answered them (modifications), for the echo rule.
    pub values: Option<Map<String, Json>>,
}

/// The engine's own write to a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echo {
    pub key: Key,
    /// The newest stamp the write can have given the record.
    pub until: DateTime<Utc>,
    pub by_user_only: bool,
    /// What the write sent; `None` for echoes recorded before values were (the stamp rule
    /// alone then decides, until they are forgotten).
    pub written: Option<Written>,
}

/// What the engine wrote to a record: the fields, the digest of their values as a poll reads
/// them back ([`super::read_back_digest`]), and the oldest stamp the write can have given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub from: DateTime<Utc>,
    pub fields: Vec<String>,
    pub digest: i64,
}

/// Stamps already logged: key → (stamp, was a deletion, digest of the values).
pub type Seen = HashMap<Key, (DateTime<Utc>, bool, Option<i64>)>;

/// One record's outcome: remembered as seen; `log`: put into the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub key: Key,
    pub stamp: DateTime<Utc>,
    pub deleted: bool,
    pub digest: Option<i64>,
    pub log: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// The connection's user (the one the engine writes as).
    pub own_user: Option<&'a str>,
    /// Changes made by `own_user` are never synced back.
    pub dedicated_account: bool,
}

/// Decides, for each record reported (at most once per key), whether it is a change.
/// `read_back`: the digest of the given fields of a reported record, computed as for
/// [`Written::digest`].
pub fn classify(
    observed: Vec<Observed>,
    seen: &Seen,
    echoes: &[Echo],
    rules: Rules,
    read_back: impl Fn(&Observed, &[String]) -> Option<i64>,
) -> Vec<Found> {
    // The newest report per key; at the same stamp a deletion is newer than a modification.
    let mut newest: HashMap<Key, Observed> = HashMap::new();
    for o in observed {
        match newest.get(&o.key) {
            Some(old) if (old.stamp, old.deleted) >= (o.stamp, o.deleted) => {}
            _ => {
                newest.insert(o.key.clone(), o);
            }
        }
    }
    let echoes: HashMap<&Key, &Echo> = echoes.iter().map(|e| (&e.key, e)).collect();
    let mut found: Vec<Found> = newest
        .into_values()
        .filter(|o| match seen.get(&o.key) {
            Some(&(stamp, deleted, digest)) => {
                (stamp, deleted) < (o.stamp, o.deleted)
                    // Edited again within the same stamp: the values tell.
                    || ((stamp, deleted) == (o.stamp, o.deleted)
                        && digest.is_some()
                        && o.digest.is_some()
                        && digest != o.digest)
            }
            None => true,
        })
        .map(|o| {
            let own = match (rules.own_user, &o.modified_by) {
                (Some(me), Some(by)) => me == by,
                _ => false,
            };
            let echo = echoes.get(&o.key).is_some_and(|e| {
                !o.deleted
                    && o.stamp <= e.until
                    && (own || !e.by_user_only)
                    && e.written.as_ref().is_none_or(|w| {
                        o.stamp >= w.from && read_back(&o, &w.fields) == Some(w.digest)
                    })
            });
            let ignored = !o.deleted && (echo || (rules.dedicated_account && own));
            Found {
                key: o.key,
                stamp: o.stamp,
                deleted: o.deleted,
                digest: o.digest,
                log: !ignored,
            }
        })
        .collect();
    found.sort_by(|a, b| (a.stamp, &a.key).cmp(&(b.stamp, &b.key)));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, second).unwrap()
    }

    fn modified(key: &str, second: u32, by: &str) -> Observed {
        Observed {
            key: Key(key.into()),
            stamp: at(second),
            modified_by: Some(by.into()),
            deleted: false,
            digest: Some(1),
            values: None,
        }
    }

    /// No echo of these tests recorded values.
    fn none(_: &Observed, _: &[String]) -> Option<i64> {
        None
    }

    const RULES: Rules = Rules {
        own_user: Some("me"),
        dedicated_account: false,
    };

    fn logged(found: &[Found]) -> Vec<&str> {
        found
            .iter()
            .filter(|f| f.log)
            .map(|f| f.key.0.as_str())
            .collect()
    }

    #[test]
    fn a_record_read_again_in_the_overlap_window_is_logged_once() {
        let seen = Seen::from([(Key("a".into()), (at(10), false, Some(1)))]);
        let found = classify(
            vec![modified("a", 10, "ann"), modified("b", 10, "ann")],
            &seen,
            &[],
            RULES,
            none,
        );
        assert_eq!(logged(&found), ["b"], "b shares a's second but is new");
        let again = classify(vec![modified("a", 11, "ann")], &seen, &[], RULES, none);
        assert_eq!(logged(&again), ["a"], "a modified again later is a change");
    }

    #[test]
    fn a_second_edit_within_the_same_stamp_is_told_by_its_values() {
        let seen = Seen::from([(Key("a".into()), (at(10), false, Some(1)))]);
        let same = classify(vec![modified("a", 10, "ann")], &seen, &[], RULES, none);
        assert_eq!(
            logged(&same),
            Vec::<&str>::new(),
            "the same values: read again"
        );
        let edited = Observed {
            digest: Some(2),
            ..modified("a", 10, "ann")
        };
        assert_eq!(
            logged(&classify(vec![edited], &seen, &[], RULES, none)),
            ["a"]
        );
    }

    #[test]
    fn the_engines_own_write_is_not_a_change_but_a_later_edit_is() {
        let echo = Echo {
            key: Key("a".into()),
            until: at(20),
            by_user_only: true,
            written: None,
        };
        let echoed = classify(
            vec![modified("a", 19, "me")],
            &Seen::new(),
            std::slice::from_ref(&echo),
            RULES,
            none,
        );
        assert_eq!(logged(&echoed), Vec::<&str>::new());
        assert_eq!(echoed.len(), 1, "remembered as seen");
        // Someone else in the same second: not our echo (the vendor named another user).
        let other = classify(
            vec![modified("a", 19, "ann")],
            &Seen::new(),
            std::slice::from_ref(&echo),
            RULES,
            none,
        );
        assert_eq!(logged(&other), ["a"]);
        // The same account, but after our write.
        let later = classify(
            vec![modified("a", 21, "me")],
            &Seen::new(),
            &[echo],
            RULES,
            none,
        );
        assert_eq!(logged(&later), ["a"]);
    }

    #[test]
    fn an_exact_echo_ignores_the_user() {
        let echo = Echo {
            key: Key("a".into()),
            until: at(20),
            by_user_only: false,
            written: None,
        };
        let found = classify(
            vec![Observed {
                modified_by: None,
                ..modified("a", 20, "")
            }],
            &Seen::new(),
            &[echo],
            RULES,
            none,
        );
        assert_eq!(logged(&found), Vec::<&str>::new());
    }

    /// Lockstep wrote `Name` with digest 7 at second 19 or 20; the tests' read-back digest is
    /// the observed record's `digest`.
    fn wrote(by_user_only: bool) -> Echo {
        Echo {
            key: Key("a".into()),
            until: at(20),
            by_user_only,
            written: Some(Written {
                from: at(19),
                fields: vec!["Name".into()],
                digest: 7,
            }),
        }
    }

    fn read_back(o: &Observed, fields: &[String]) -> Option<i64> {
        assert_eq!(fields, ["Name"], "only the fields written are compared");
        o.digest
    }

    fn holding(digest: i64, second: u32, by: &str) -> Observed {
        Observed {
            digest: Some(digest),
            ..modified("a", second, by)
        }
    }

    #[test]
    fn the_engines_write_read_back_is_not_a_change() {
        for by_user_only in [true, false] {
            let found = classify(
                vec![holding(7, 20, "me")],
                &Seen::new(),
                &[wrote(by_user_only)],
                RULES,
                read_back,
            );
            assert_eq!(logged(&found), Vec::<&str>::new());
            assert_eq!(found.len(), 1, "remembered as seen");
        }
    }

    #[test]
    fn other_values_within_the_writes_stamp_by_the_same_user_are_a_change() {
        for by_user_only in [true, false] {
            let found = classify(
                vec![holding(8, 20, "me")],
                &Seen::new(),
                &[wrote(by_user_only)],
                RULES,
                read_back,
            );
            assert_eq!(logged(&found), ["a"], "by_user_only: {by_user_only}");
        }
        // Nor does a dedicated account's rule change: everything its user did is ignored.
        let dedicated = Rules {
            dedicated_account: true,
            ..RULES
        };
        let found = classify(
            vec![holding(8, 20, "me")],
            &Seen::new(),
            &[wrote(true)],
            dedicated,
            read_back,
        );
        assert_eq!(logged(&found), Vec::<&str>::new());
    }

    #[test]
    fn the_written_values_with_a_stamp_older_than_the_write_are_a_change() {
        let found = classify(
            vec![holding(7, 18, "me")],
            &Seen::new(),
            &[wrote(true)],
            RULES,
            read_back,
        );
        assert_eq!(logged(&found), ["a"]);
    }

    #[test]
    fn a_second_edit_within_the_stamp_of_an_echo_already_seen_is_a_change() {
        // The poll saw Lockstep's write (digest 7 of all fields, remembered as seen); the
        // user edits within the same second.
        let seen = Seen::from([(Key("a".into()), (at(20), false, Some(7)))]);
        let found = classify(
            vec![holding(8, 20, "me")],
            &seen,
            &[wrote(true)],
            RULES,
            read_back,
        );
        assert_eq!(logged(&found), ["a"]);
    }

    #[test]
    fn a_dedicated_account_ignores_everything_its_user_did() {
        let rules = Rules {
            dedicated_account: true,
            ..RULES
        };
        let found = classify(
            vec![modified("a", 5, "me"), modified("b", 5, "ann")],
            &Seen::new(),
            &[],
            rules,
            none,
        );
        assert_eq!(logged(&found), ["b"]);
        let without = classify(vec![modified("a", 5, "me")], &Seen::new(), &[], RULES, none);
        assert_eq!(
            logged(&without),
            ["a"],
            "not dedicated: the same user's edit syncs"
        );
    }

    #[test]
    fn a_deletion_after_a_modification_in_the_same_second_is_logged() {
        let seen = Seen::from([(Key("a".into()), (at(7), false, Some(1)))]);
        let deleted = Observed {
            deleted: true,
            ..modified("a", 7, "me")
        };
        let found = classify(
            vec![modified("a", 7, "ann"), deleted.clone()],
            &seen,
            &[],
            RULES,
            none,
        );
        assert_eq!(found.len(), 1);
        assert!(found[0].deleted && found[0].log);
        let seen = Seen::from([(Key("a".into()), (at(7), true, None))]);
        assert!(classify(vec![deleted], &seen, &[], RULES, none).is_empty());
    }
}
