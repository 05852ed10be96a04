//! When a package runs by itself: Skyvia's scheduler, as data plus pure computation.
//!
//! A schedule is **one-time** (a local date and time) or **recurring**: every N days, on
//! some days of the week, or on a day of the month (a number, or "the Nth weekday"); on
//! those days once at a time, or every N minutes, optionally only inside a window of the
//! day; never before its start. Times are wall-clock times in the schedule's IANA time zone
//! (`local_time` says how daylight-saving days are handled). `next_after` is all the
//! scheduler needs; `upcoming` is what the editor shows.

mod local_time;
mod occurrences;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

pub use chrono_tz::Tz;
pub use occurrences::{next_after, upcoming};

/// Shortest interval between runs of one package.
pub const MIN_INTERVAL_MINUTES: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// Once, at this local date and time.
    OneTime { at: NaiveDateTime },
    Recurring {
        /// No occurrence before this local date and time.
        start: NaiveDateTime,
        repeat: Repeat,
        time: TimeOfDay,
    },
}

/// Which days a recurring schedule runs on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "every", rename_all = "snake_case", deny_unknown_fields)]
pub enum Repeat {
    /// Every `interval` days, counted from the start date.
    Day { interval: u32 },
    /// On these days of the week.
    Week { days: Vec<Weekday> },
    /// Once a month.
    Month { on: MonthDay },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum MonthDay {
    /// Day 1 to 31; in shorter months, the month's last day.
    Day { day: u32 },
    /// The first … fourth, or last, given weekday of the month.
    Nth { nth: Nth, weekday: Weekday },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nth {
    First,
    Second,
    Third,
    Fourth,
    Last,
}

/// When during a matching day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TimeOfDay {
    Once {
        at: NaiveTime,
    },
    /// Every `minutes` minutes from the window's start (midnight without a window) up to its
    /// end (inclusive) or the end of the day.
    Every {
        minutes: u32,
        window: Option<Window>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub from: NaiveTime,
    pub to: NaiveTime,
}

/// A schedule problem, naming the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ScheduleError {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> ScheduleError {
    ScheduleError {
        field,
        message: message.into(),
    }
}

impl Schedule {
    /// Checks the rules the editor enforces (and anything read back from storage).
    pub fn validate(&self) -> Result<(), ScheduleError> {
        let Schedule::Recurring { repeat, time, .. } = self else {
            return Ok(());
        };
        match repeat {
            Repeat::Day { interval } if !(1..=365).contains(interval) => {
                return Err(invalid("interval", "run every 1 to 365 days"));
            }
            Repeat::Week { days } if days.is_empty() => {
                return Err(invalid("days", "choose at least one day of the week"));
            }
            Repeat::Month {
                on: MonthDay::Day { day },
            } if !(1..=31).contains(day) => {
                return Err(invalid("day", "choose a day of the month from 1 to 31"));
            }
            _ => {}
        }
        if let TimeOfDay::Every { minutes, window } = time {
            if *minutes < MIN_INTERVAL_MINUTES || *minutes > 24 * 60 {
                return Err(invalid(
                    "minutes",
                    format!("run every {MIN_INTERVAL_MINUTES} minute to 24 hours"),
                ));
            }
            if let Some(w) = window
                && w.from >= w.to
            {
                return Err(invalid(
                    "window",
                    "the time window must end after it starts",
                ));
            }
        }
        Ok(())
    }

    /// A one-line description for lists: "Every day at 02:30", "Every 15 minutes on Mon, Fri".
    pub fn summary(&self) -> String {
        match self {
            Schedule::OneTime { at } => format!("Once on {}", at.format("%Y-%m-%d %H:%M")),
            Schedule::Recurring { repeat, time, .. } => {
                let days = match repeat {
                    Repeat::Day { interval: 1 } => "every day".to_owned(),
                    Repeat::Day { interval } => format!("every {interval} days"),
                    Repeat::Week { days } => {
                        let names: Vec<String> = days.iter().map(|d| d.to_string()).collect();
                        format!("on {}", names.join(", "))
                    }
                    Repeat::Month {
                        on: MonthDay::Day { day },
                    } => format!("monthly on day {day}"),
                    Repeat::Month {
                        on: MonthDay::Nth { nth, weekday },
                    } => format!("monthly on the {} {weekday}", nth_name(*nth)),
                };
                match time {
                    TimeOfDay::Once { at } => {
                        format!("{} at {}", capitalize(&days), at.format("%H:%M"))
                    }
                    TimeOfDay::Every { minutes, window } => {
                        let every = if minutes % 60 == 0 {
                            match minutes / 60 {
                                1 => "every hour".to_owned(),
                                h => format!("every {h} hours"),
                            }
                        } else if *minutes == 1 {
                            "every minute".to_owned()
                        } else {
                            format!("every {minutes} minutes")
                        };
                        let window = window
                            .map(|w| {
                                format!(
                                    " from {} to {}",
                                    w.from.format("%H:%M"),
                                    w.to.format("%H:%M")
                                )
                            })
                            .unwrap_or_default();
                        format!("{} {days}{window}", capitalize(&every))
                    }
                }
            }
        }
    }
}

fn nth_name(nth: Nth) -> &'static str {
    match nth {
        Nth::First => "first",
        Nth::Second => "second",
        Nth::Third => "third",
        Nth::Fourth => "fourth",
        Nth::Last => "last",
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Every IANA time zone name, in the database's order (for a searchable list).
pub fn time_zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
}

/// Parses an IANA time zone name ("Europe/Berlin", "UTC").
pub fn time_zone(name: &str) -> Result<chrono_tz::Tz, ScheduleError> {
    name.trim().parse().map_err(|_| {
        invalid(
            "time_zone",
            format!(
                "“{name}” is not an IANA time zone name (e.g. Europe/Berlin, America/New_York, UTC)"
            ),
        )
    })
}

impl Repeat {
    /// Whether the schedule runs on `date`, for a schedule starting on `start`.
    fn matches(&self, date: NaiveDate, start: NaiveDate) -> bool {
        use chrono::Datelike;
        match self {
            Repeat::Day { interval } => {
                let days = (date - start).num_days();
                days >= 0 && days % i64::from((*interval).max(1)) == 0
            }
            Repeat::Week { days } => days.contains(&date.weekday()),
            Repeat::Month { on } => on.day_in(date.year(), date.month()) == Some(date),
        }
    }
}

impl MonthDay {
    /// The day this rule picks in the given month.
    fn day_in(self, year: i32, month: u32) -> Option<NaiveDate> {
        use chrono::Datelike;
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let last = first
            .checked_add_months(chrono::Months::new(1))?
            .pred_opt()?;
        match self {
            MonthDay::Day { day } => NaiveDate::from_ymd_opt(year, month, day.min(last.day())),
            MonthDay::Nth { nth, weekday } => {
                if nth == Nth::Last {
                    let back = (7 + last.weekday().num_days_from_monday()
                        - weekday.num_days_from_monday())
                        % 7;
                    return last.checked_sub_days(chrono::Days::new(u64::from(back)));
                }
                let ahead = (7 + weekday.num_days_from_monday()
                    - first.weekday().num_days_from_monday())
                    % 7;
                let index = match nth {
                    Nth::First => 0,
                    Nth::Second => 1,
                    Nth::Third => 2,
                    _ => 3,
                };
                first.checked_add_days(chrono::Days::new(u64::from(ahead + 7 * index)))
            }
        }
    }
}

impl TimeOfDay {
    /// The wall-clock times of a matching day, ascending.
    fn times(&self) -> Vec<NaiveTime> {
        match *self {
            TimeOfDay::Once { at } => vec![at],
            TimeOfDay::Every { minutes, window } => {
                let step = i64::from(minutes.max(MIN_INTERVAL_MINUTES)) * 60;
                let (from, to) = match window {
                    Some(w) => (secs(w.from), secs(w.to)),
                    None => (0, 24 * 3600 - 1),
                };
                (0..)
                    .map(|i| from + i * step)
                    .take_while(|s| *s <= to)
                    .filter_map(|s| NaiveTime::from_num_seconds_from_midnight_opt(s as u32, 0))
                    .collect()
            }
        }
    }
}

fn secs(t: NaiveTime) -> i64 {
    use chrono::Timelike;
    i64::from(t.num_seconds_from_midnight())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn every_listed_time_zone_is_accepted() {
        let names: Vec<&str> = time_zone_names().collect();
        assert!(names.contains(&"Europe/Berlin") && names.contains(&"America/New_York"));
        for name in names {
            assert!(time_zone(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn the_nth_weekday_of_a_month() {
        let third_tue = MonthDay::Nth {
            nth: Nth::Third,
            weekday: Weekday::Tue,
        };
        // November 2026 starts on a Sunday: Tuesdays are 3, 10, 17, 24.
        assert_eq!(
            third_tue.day_in(2026, 11),
            NaiveDate::from_ymd_opt(2026, 11, 17)
        );
        let last_fri = MonthDay::Nth {
            nth: Nth::Last,
            weekday: Weekday::Fri,
        };
        assert_eq!(
            last_fri.day_in(2026, 11),
            NaiveDate::from_ymd_opt(2026, 11, 27)
        );
        assert_eq!(
            MonthDay::Day { day: 31 }.day_in(2027, 2),
            NaiveDate::from_ymd_opt(2027, 2, 28),
            "day 31 means the month's last day in shorter months"
        );
    }

    #[test]
    fn interval_times_stay_inside_the_window() {
        let every = TimeOfDay::Every {
            minutes: 15,
            window: Some(Window {
                from: time(9, 0),
                to: time(10, 0),
            }),
        };
        assert_eq!(
            every.times(),
            vec![
                time(9, 0),
                time(9, 15),
                time(9, 30),
                time(9, 45),
                time(10, 0)
            ]
        );
        let hourly = TimeOfDay::Every {
            minutes: 60,
            window: None,
        };
        assert_eq!(hourly.times().len(), 24);
    }

    #[test]
    fn rules_the_editor_enforces() {
        let every = |minutes| Schedule::Recurring {
            start: NaiveDate::from_ymd_opt(2026, 1, 1)
                .unwrap()
                .and_time(time(0, 0)),
            repeat: Repeat::Day { interval: 1 },
            time: TimeOfDay::Every {
                minutes,
                window: None,
            },
        };
        assert_eq!(every(0).validate().unwrap_err().field, "minutes");
        assert!(every(1).validate().is_ok());
        let no_days = Schedule::Recurring {
            start: NaiveDate::from_ymd_opt(2026, 1, 1)
                .unwrap()
                .and_time(time(0, 0)),
            repeat: Repeat::Week { days: vec![] },
            time: TimeOfDay::Once { at: time(2, 30) },
        };
        assert_eq!(no_days.validate().unwrap_err().field, "days");
        assert_eq!(every(15).summary(), "Every 15 minutes every day");
        assert!(time_zone("Mars/Olympus").is_err());
        assert!(time_zone("Europe/Berlin").is_ok());
    }
}
