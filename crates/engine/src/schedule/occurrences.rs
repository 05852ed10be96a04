//! The occurrences of a schedule: the next one after an instant, and the next few.

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;

use super::Schedule;
use super::local_time::resolve;

/// How far ahead to look for the next matching day (covers "the 31st" and leap days).
const HORIZON_DAYS: u64 = 366 * 8;

/// The first occurrence strictly after `after`, or None when there is none left.
pub fn next_after(schedule: &Schedule, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let (start, repeat, time) = match schedule {
        Schedule::OneTime { at } => return resolve(tz, *at).filter(|t| *t > after),
        Schedule::Recurring {
            start,
            repeat,
            time,
        } => (start, repeat, time),
    };
    let times = time.times();
    // A day earlier than `after`'s local date: an instant late in a local day may be early
    // in UTC terms of the day before.
    let from = after
        .with_timezone(&tz)
        .date_naive()
        .checked_sub_days(Days::new(1))
        .unwrap_or(NaiveDate::MIN)
        .max(start.date());
    let mut date = from;
    for _ in 0..HORIZON_DAYS {
        if repeat.matches(date, start.date()) {
            // Per day, the earliest: around a spring-forward gap, moved times can overtake.
            let earliest = times
                .iter()
                .map(|t| date.and_time(*t))
                .filter(|local| local >= start)
                .filter_map(|local| resolve(tz, local))
                .filter(|t| *t > after)
                .min();
            if earliest.is_some() {
                return earliest;
            }
        }
        date = date.succ_opt()?;
    }
    None
}

/// The next `n` occurrences after `after`.
pub fn upcoming(schedule: &Schedule, tz: Tz, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
    let mut out = Vec::with_capacity(n);
    let mut cursor = after;
    while out.len() < n {
        match next_after(schedule, tz, cursor) {
            Some(t) => {
                out.push(t);
                cursor = t;
            }
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveTime, TimeZone, Weekday};
    use chrono_tz::Europe::Berlin;

    use super::*;
    use crate::schedule::{MonthDay, Nth, Repeat, TimeOfDay, Window};

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> chrono::NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn in_berlin(ts: &[DateTime<Utc>]) -> Vec<String> {
        ts.iter()
            .map(|t| t.with_timezone(&Berlin).format("%m-%d %H:%M").to_string())
            .collect()
    }

    fn daily_at(h: u32, m: u32) -> Schedule {
        Schedule::Recurring {
            start: local(2026, 1, 1, 0, 0),
            repeat: Repeat::Day { interval: 1 },
            time: TimeOfDay::Once {
                at: NaiveTime::from_hms_opt(h, m, 0).unwrap(),
            },
        }
    }

    #[test]
    fn a_daily_0230_run_happens_once_on_the_spring_forward_day() {
        let got = upcoming(&daily_at(2, 30), Berlin, utc(2026, 3, 27, 12, 0), 3);
        assert_eq!(
            in_berlin(&got),
            ["03-28 02:30", "03-29 03:30", "03-30 02:30"]
        );
    }

    #[test]
    fn a_daily_0230_run_happens_once_on_the_fall_back_day() {
        let got = upcoming(&daily_at(2, 30), Berlin, utc(2026, 10, 24, 12, 0), 3);
        assert_eq!(
            got,
            [
                utc(2026, 10, 25, 0, 30), // 02:30 CEST, the first of the two 02:30s
                utc(2026, 10, 26, 1, 30), // 02:30 CET
                utc(2026, 10, 27, 1, 30),
            ]
        );
    }

    #[test]
    fn every_30_minutes_across_the_spring_forward_gap_keeps_order_and_skips_nothing_real() {
        let s = Schedule::Recurring {
            start: local(2026, 1, 1, 0, 0),
            repeat: Repeat::Day { interval: 1 },
            time: TimeOfDay::Every {
                minutes: 30,
                window: Some(Window {
                    from: NaiveTime::from_hms_opt(1, 0, 0).unwrap(),
                    to: NaiveTime::from_hms_opt(4, 0, 0).unwrap(),
                }),
            },
        };
        let got = upcoming(&s, Berlin, utc(2026, 3, 28, 23, 0), 6);
        // 02:00 and 02:30 do not exist; moved by the gap they coincide with 03:00 and 03:30.
        assert_eq!(
            in_berlin(&got),
            [
                "03-29 01:00",
                "03-29 01:30",
                "03-29 03:00",
                "03-29 03:30",
                "03-29 04:00",
                "03-30 01:00"
            ]
        );
    }

    #[test]
    fn weekly_on_chosen_days_from_the_start() {
        let s = Schedule::Recurring {
            start: local(2026, 11, 25, 10, 0), // a Wednesday, after 09:00
            repeat: Repeat::Week {
                days: vec![Weekday::Mon, Weekday::Wed],
            },
            time: TimeOfDay::Once {
                at: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            },
        };
        let got = upcoming(&s, Berlin, utc(2026, 11, 1, 0, 0), 3);
        assert_eq!(
            in_berlin(&got),
            ["11-30 09:00", "12-02 09:00", "12-07 09:00"]
        );
    }

    #[test]
    fn monthly_on_the_last_friday_and_every_other_day() {
        let s = Schedule::Recurring {
            start: local(2026, 1, 1, 0, 0),
            repeat: Repeat::Month {
                on: MonthDay::Nth {
                    nth: Nth::Last,
                    weekday: Weekday::Fri,
                },
            },
            time: TimeOfDay::Once {
                at: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
            },
        };
        let got = upcoming(&s, Berlin, utc(2026, 11, 1, 0, 0), 2);
        assert_eq!(in_berlin(&got), ["11-27 18:00", "12-25 18:00"]);

        let every_other = Schedule::Recurring {
            start: local(2026, 11, 20, 0, 0),
            repeat: Repeat::Day { interval: 2 },
            time: TimeOfDay::Once {
                at: NaiveTime::from_hms_opt(6, 0, 0).unwrap(),
            },
        };
        let got = upcoming(&every_other, Berlin, utc(2026, 11, 25, 12, 0), 2);
        assert_eq!(in_berlin(&got), ["11-26 06:00", "11-28 06:00"]);
    }

    #[test]
    fn a_one_time_schedule_has_one_occurrence() {
        let s = Schedule::OneTime {
            at: local(2026, 12, 1, 8, 0),
        };
        assert_eq!(
            next_after(&s, Berlin, utc(2026, 11, 25, 0, 0)),
            Some(utc(2026, 12, 1, 7, 0))
        );
        assert_eq!(next_after(&s, Berlin, utc(2026, 12, 1, 7, 0)), None);
    }
}
