//! Wall-clock times in a time zone to instants, on daylight-saving days too.
//!
//! - A time that occurs twice (the fall-back hour) runs once, at its first occurrence.
//! - A time that does not occur (the spring-forward gap) runs once, moved later by the
//!   length of the gap (02:30 in a one-hour gap runs at 03:30), as java.time and most
//!   schedulers do.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The instant a wall-clock time in `tz` stands for.
pub(super) fn resolve(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        LocalResult::None => {
            // In a gap: read the time with the offset in force just before it.
            let before = local - chrono::Duration::hours(6);
            let offset = match tz.from_local_datetime(&before) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.offset().to_owned(),
                LocalResult::None => return None,
            };
            use chrono::Offset;
            let seconds = offset.fix().local_minus_utc();
            Some(
                DateTime::<Utc>::from_naive_utc_and_offset(local, Utc)
                    - chrono::Duration::seconds(i64::from(seconds)),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    }

    #[test]
    fn a_time_in_the_spring_forward_gap_moves_later_by_the_gap() {
        // Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST.
        let t = resolve(chrono_tz::Europe::Berlin, at(2026, 3, 29, 2, 30)).unwrap();
        assert_eq!(t, Utc.with_ymd_and_hms(2026, 3, 29, 1, 30, 0).unwrap());
        assert_eq!(
            t.with_timezone(&chrono_tz::Europe::Berlin)
                .format("%H:%M")
                .to_string(),
            "03:30"
        );
    }

    #[test]
    fn a_time_that_occurs_twice_resolves_to_the_first() {
        // Berlin, 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
        let t = resolve(chrono_tz::Europe::Berlin, at(2026, 10, 25, 2, 30)).unwrap();
        assert_eq!(t, Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap());
    }
}
