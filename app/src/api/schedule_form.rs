//! The schedule editor's fields to the engine's `Schedule` and back (server only).

use chrono::{NaiveDate, NaiveTime, Weekday};
use engine::schedule::{MonthDay, Nth, Repeat, Schedule, TimeOfDay, Window};

use crate::error::AppError;
use crate::model::ScheduleFields;

fn invalid(field: &str, message: &str) -> AppError {
    AppError::Validation {
        field: field.into(),
        message: message.into(),
    }
}

fn date(field: &str, text: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| invalid(field, "enter a date as YYYY-MM-DD"))
}

fn time(field: &str, text: &str) -> Result<NaiveTime, AppError> {
    let text = text.trim();
    NaiveTime::parse_from_str(text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
        .map_err(|_| invalid(field, "enter a time as HH:MM (24-hour)"))
}

fn number(field: &str, text: &str, what: &str) -> Result<u32, AppError> {
    text.trim()
        .parse()
        .map_err(|_| invalid(field, &format!("enter {what} as a whole number")))
}

fn weekday(field: &str, text: &str) -> Result<Weekday, AppError> {
    text.trim()
        .parse()
        .map_err(|_| invalid(field, "choose a day of the week"))
}

pub fn to_schedule(f: &ScheduleFields) -> Result<Schedule, AppError> {
    let schedule = if f.kind == "one_time" {
        Schedule::OneTime {
            at: date("at_date", &f.at_date)?.and_time(time("at_time", &f.at_time)?),
        }
    } else {
        let repeat = match f.every.as_str() {
            "week" => Repeat::Week {
                days: f
                    .days
                    .iter()
                    .map(|d| weekday("days", d))
                    .collect::<Result<_, _>>()?,
            },
            "month" if f.month_mode == "nth" => Repeat::Month {
                on: MonthDay::Nth {
                    nth: match f.nth.as_str() {
                        "first" => Nth::First,
                        "second" => Nth::Second,
                        "third" => Nth::Third,
                        "fourth" => Nth::Fourth,
                        "last" => Nth::Last,
                        _ => {
                            return Err(invalid(
                                "nth",
                                "choose first, second, third, fourth or last",
                            ));
                        }
                    },
                    weekday: weekday("nth_weekday", &f.nth_weekday)?,
                },
            },
            "month" => Repeat::Month {
                on: MonthDay::Day {
                    day: number("month_day", &f.month_day, "the day of the month")?,
                },
            },
            _ => Repeat::Day {
                interval: number("interval", &f.interval, "the number of days")?,
            },
        };
        let time_of_day = if f.time_mode == "every" {
            let n = number("every_n", &f.every_n, "how often")?;
            let minutes = if f.every_unit == "hours" {
                n.saturating_mul(60)
            } else {
                n
            };
            let window = match (f.window_from.trim(), f.window_to.trim()) {
                ("", "") => None,
                (from, to) => Some(Window {
                    from: time("window_from", from)?,
                    to: time("window_to", to)?,
                }),
            };
            TimeOfDay::Every { minutes, window }
        } else {
            TimeOfDay::Once {
                at: time("once_at", &f.once_at)?,
            }
        };
        Schedule::Recurring {
            start: date("start_date", &f.start_date)?.and_time(if f.start_time.trim().is_empty() {
                NaiveTime::MIN
            } else {
                time("start_time", &f.start_time)?
            }),
            repeat,
            time: time_of_day,
        }
    };
    schedule.validate().map_err(|e| {
        let field = match e.field {
            "minutes" => "every_n",
            "day" => "month_day",
            "window" => "window_to",
            other => other,
        };
        invalid(field, &e.message)
    })?;
    Ok(schedule)
}

/// The fields for a new schedule: every day at 02:00 UTC, from today.
pub fn defaults(today: NaiveDate) -> ScheduleFields {
    ScheduleFields {
        kind: "recurring".into(),
        at_date: today.format("%Y-%m-%d").to_string(),
        at_time: "02:00".into(),
        every: "day".into(),
        interval: "1".into(),
        days: vec![
            "Mon".into(),
            "Tue".into(),
            "Wed".into(),
            "Thu".into(),
            "Fri".into(),
        ],
        month_mode: "day".into(),
        month_day: "1".into(),
        nth: "first".into(),
        nth_weekday: "Mon".into(),
        time_mode: "once".into(),
        once_at: "02:00".into(),
        every_n: "1".into(),
        every_unit: "hours".into(),
        window_from: String::new(),
        window_to: String::new(),
        start_date: today.format("%Y-%m-%d").to_string(),
        start_time: "00:00".into(),
        time_zone: "UTC".into(),
        enabled: true,
    }
}

/// A saved schedule as the editor's fields.
pub fn to_fields(
    schedule: &Schedule,
    time_zone: &str,
    enabled: bool,
    today: NaiveDate,
) -> ScheduleFields {
    let mut f = defaults(today);
    f.time_zone = time_zone.to_owned();
    f.enabled = enabled;
    let hm = |t: NaiveTime| t.format("%H:%M").to_string();
    match schedule {
        Schedule::OneTime { at } => {
            f.kind = "one_time".into();
            f.at_date = at.date().format("%Y-%m-%d").to_string();
            f.at_time = hm(at.time());
        }
        Schedule::Recurring {
            start,
            repeat,
            time,
        } => {
            f.start_date = start.date().format("%Y-%m-%d").to_string();
            f.start_time = hm(start.time());
            match repeat {
                Repeat::Day { interval } => {
                    f.every = "day".into();
                    f.interval = interval.to_string();
                }
                Repeat::Week { days } => {
                    f.every = "week".into();
                    f.days = days.iter().map(|d| d.to_string()).collect();
                }
                Repeat::Month { on } => {
                    f.every = "month".into();
                    match on {
                        MonthDay::Day { day } => {
                            f.month_mode = "day".into();
                            f.month_day = day.to_string();
                        }
                        MonthDay::Nth { nth, weekday } => {
                            f.month_mode = "nth".into();
                            f.nth = match nth {
                                Nth::First => "first",
                                Nth::Second => "second",
                                Nth::Third => "third",
                                Nth::Fourth => "fourth",
                                Nth::Last => "last",
                            }
                            .into();
                            f.nth_weekday = weekday.to_string();
                        }
                    }
                }
            }
            match time {
                TimeOfDay::Once { at } => {
                    f.time_mode = "once".into();
                    f.once_at = hm(*at);
                }
                TimeOfDay::Every { minutes, window } => {
                    f.time_mode = "every".into();
                    if minutes % 60 == 0 {
                        f.every_n = (minutes / 60).to_string();
                        f.every_unit = "hours".into();
                    } else {
                        f.every_n = minutes.to_string();
                        f.every_unit = "minutes".into();
                    }
                    if let Some(w) = window {
                        f.window_from = hm(w.from);
                        f.window_to = hm(w.to);
                    }
                }
            }
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_through_the_engine_schedule() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let mut f = defaults(today);
        f.every = "week".into();
        f.days = vec!["Mon".into(), "Fri".into()];
        f.time_mode = "every".into();
        f.every_n = "15".into();
        f.every_unit = "minutes".into();
        f.window_from = "08:00".into();
        f.window_to = "18:00".into();
        let schedule = to_schedule(&f).unwrap();
        assert_eq!(to_fields(&schedule, "UTC", true, today), f);

        f.every_n = "0".into();
        let AppError::Validation { field, .. } = to_schedule(&f).unwrap_err() else {
            panic!("a validation error")
        };
        assert_eq!(field, "every_n");
        f.every_n = "15".into();
        f.window_to = "7pm".into();
        let AppError::Validation { field, .. } = to_schedule(&f).unwrap_err() else {
            panic!("a validation error")
        };
        assert_eq!(field, "window_to");
    }
}
