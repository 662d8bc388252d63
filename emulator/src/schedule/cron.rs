//! AWS's six-field cron expressions (`cron(Minutes Hours Day-of-month Month Day-of-week Year)`, UTC), with their
//! own rules (EventBridge, "Schedule expressions"): day-of-week 1–7 is SUN–SAT; one of day-of-month and
//! day-of-week is `?`; `L` (last day of the month, or `5L` the last Thursday), `W` (`15W`, the weekday nearest the
//! 15th; `LW`, the last weekday), `#` (`3#2`, the second Tuesday); a year field (1970–2199). Pure: parsing and the
//! next fire time after a given time.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use std::collections::BTreeSet;

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: BTreeSet<u32>,
    hours: BTreeSet<u32>,
    days: Days,
    months: BTreeSet<u32>,
    years: BTreeSet<i32>,
}

/// Which days of a month match: by day-of-month or by day-of-week (the other field is `?`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Days {
    OfMonth(BTreeSet<u32>),
    LastOfMonth,
    /// `15W`: the weekday nearest the 15th, within the month.
    NearestWeekday(u32),
    /// `LW`: the last weekday of the month.
    LastWeekday,
    /// Day-of-week numbers, 1 (SUN) to 7 (SAT).
    OfWeek(BTreeSet<u32>),
    /// `5L`: the last such weekday of the month.
    LastOfWeekday(u32),
    /// `3#2`: the second such weekday of the month.
    NthWeekday {
        weekday: u32,
        nth: u32,
    },
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Cron {
    /// The six fields inside `cron(…)`.
    pub fn parse(fields: &str) -> Result<Self, String> {
        let parts: Vec<&str> = fields.split_whitespace().collect();
        let [minutes, hours, day_of_month, month, day_of_week, year] = parts.as_slice() else {
            return Err(format!(
                "expected six fields (minutes hours day-of-month month day-of-week year), found {}",
                parts.len()
            ));
        };
        let days = match (*day_of_month, *day_of_week) {
            ("?", "?") => return Err("day-of-month and day-of-week cannot both be `?`".into()),
            ("?", dow) => day_of_week_days(dow)?,
            (dom, "?") => day_of_month_days(dom)?,
            _ => return Err("one of day-of-month and day-of-week must be `?` (AWS does not take both)".into()),
        };
        Ok(Self {
            minutes: field(minutes, "minutes", 0, 59, &[])?,
            hours: field(hours, "hours", 0, 23, &[])?,
            days,
            months: field(month, "month", 1, 12, &MONTHS)?,
            years: field(year, "year", 1970, 2199, &[])?.into_iter().map(|y| y as i32).collect(),
        })
    }

    /// The first time strictly after `after` (to the minute) that the expression names; `None` past 2199.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = after.naive_utc();
        for &year in self.years.range(start.year()..) {
            for &month in &self.months {
                if (year, month) < (start.year(), start.month()) {
                    continue;
                }
                for day in self.days_of(year, month) {
                    let date = NaiveDate::from_ymd_opt(year, month, day)?;
                    if date < start.date() {
                        continue;
                    }
                    for &hour in &self.hours {
                        for &minute in &self.minutes {
                            let at = date.and_hms_opt(hour, minute, 0)?;
                            if at > start {
                                return Some(Utc.from_utc_datetime(&at));
                            }
                        }
                    }
                }
            }
        }
        None
    }

    /// The days of `year`-`month` that match, in order.
    fn days_of(&self, year: i32, month: u32) -> Vec<u32> {
        let last = days_in_month(year, month);
        let weekday =
            |day: u32| NaiveDate::from_ymd_opt(year, month, day).map_or(0, |d| d.weekday().num_days_from_sunday() + 1);
        let is_weekday = |day: u32| (2..=6).contains(&weekday(day));
        match &self.days {
            Days::OfMonth(days) => days.iter().copied().filter(|d| *d <= last).collect(),
            Days::LastOfMonth => vec![last],
            Days::NearestWeekday(day) if *day > last => Vec::new(),
            Days::NearestWeekday(day) => {
                // Saturday moves to Friday (or Monday the 3rd for the 1st), Sunday to Monday (or Friday for the
                // last day): the nearest weekday without leaving the month.
                let day = *day;
                let nearest = match weekday(day) {
                    7 if day == 1 => 3,
                    7 => day - 1,
                    1 if day == last => day - 2,
                    1 => day + 1,
                    _ => day,
                };
                vec![nearest]
            }
            Days::LastWeekday => (1..=last).rev().find(|d| is_weekday(*d)).into_iter().collect(),
            Days::OfWeek(weekdays) => (1..=last).filter(|d| weekdays.contains(&weekday(*d))).collect(),
            Days::LastOfWeekday(wanted) => (1..=last).rev().find(|d| weekday(*d) == *wanted).into_iter().collect(),
            Days::NthWeekday { weekday: wanted, nth } => {
                (1..=last).filter(|d| weekday(*d) == *wanted).nth(*nth as usize - 1).into_iter().collect()
            }
        }
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    NaiveDate::from_ymd_opt(next_year, next_month, 1).and_then(|first| first.pred_opt()).map_or(28, |last| last.day())
}

fn day_of_month_days(text: &str) -> Result<Days, String> {
    match text {
        "L" => Ok(Days::LastOfMonth),
        "LW" => Ok(Days::LastWeekday),
        w if w.ends_with('W') => {
            let day = number(&w[..w.len() - 1], "day-of-month", 1, 31, &[])?;
            Ok(Days::NearestWeekday(day))
        }
        other => Ok(Days::OfMonth(field(other, "day-of-month", 1, 31, &[])?)),
    }
}

fn day_of_week_days(text: &str) -> Result<Days, String> {
    if let Some((weekday, nth)) = text.split_once('#') {
        let weekday = number(weekday, "day-of-week", 1, 7, &WEEKDAYS)?;
        let nth = number(nth, "day-of-week `#`", 1, 5, &[])?;
        return Ok(Days::NthWeekday { weekday, nth });
    }
    match text {
        "L" => Ok(Days::LastOfWeekday(7)),
        l if l.ends_with('L') => Ok(Days::LastOfWeekday(number(&l[..l.len() - 1], "day-of-week", 1, 7, &WEEKDAYS)?)),
        other => Ok(Days::OfWeek(field(other, "day-of-week", 1, 7, &WEEKDAYS)?)),
    }
}

/// A comma-separated list of `*`, values, ranges `a-b` and steps `*/n`, `a/n`, `a-b/n`, within `min..=max`;
/// `names` are the field's names for 1, 2, … (JAN…, SUN…).
fn field(text: &str, what: &str, min: u32, max: u32, names: &[&str]) -> Result<BTreeSet<u32>, String> {
    let mut values = BTreeSet::new();
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, number(step, what, 1, max.max(1), &[])?),
            None => (item, 1),
        };
        let (from, to) = match range {
            "*" => (min, max),
            range => match range.split_once('-') {
                Some((a, b)) => (number(a, what, min, max, names)?, number(b, what, min, max, names)?),
                None => {
                    let a = number(range, what, min, max, names)?;
                    (a, if item.contains('/') { max } else { a })
                }
            },
        };
        if from > to {
            return Err(format!("{what}: the range `{range}` runs backwards"));
        }
        values.extend((from..=to).step_by(step as usize));
    }
    Ok(values)
}

fn number(text: &str, what: &str, min: u32, max: u32, names: &[&str]) -> Result<u32, String> {
    let upper = text.to_ascii_uppercase();
    let value = match names.iter().position(|n| *n == upper) {
        Some(index) => index as u32 + 1,
        None => text.parse().map_err(|_| format!("{what}: `{text}` is not a number or name"))?,
    };
    if !(min..=max).contains(&value) {
        return Err(format!("{what}: {value} is outside {min}-{max}"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    /// Expression, after, expected next fire time.
    const CASES: &[(&str, &str, &str)] = &[
        ("0 12 * * ? *", "2026-12-05T11:00:00Z", "2026-12-05T12:00:00Z"),
        ("0 12 * * ? *", "2026-12-05T12:00:00Z", "2026-12-06T12:00:00Z"),
        ("0/15 * * * ? *", "2026-12-05T11:07:30Z", "2026-12-05T11:15:00Z"),
        ("15 10 ? * 6L 2026-2027", "2026-12-01T00:00:00Z", "2026-12-25T10:15:00Z"),
        ("0 8 ? * 3#2 *", "2026-12-01T00:00:00Z", "2026-12-08T08:00:00Z"),
        ("0 8 ? * TUE#2 *", "2026-12-09T00:00:00Z", "2027-01-12T08:00:00Z"),
        ("0 0 L * ? *", "2027-02-01T00:00:00Z", "2027-02-28T00:00:00Z"),
        ("0 0 L * ? *", "2028-02-01T00:00:00Z", "2028-02-29T00:00:00Z"),
        ("0 0 LW * ? *", "2026-10-01T00:00:00Z", "2026-10-30T00:00:00Z"),
        ("0 9 1W * ? *", "2026-08-01T00:00:00Z", "2026-08-03T09:00:00Z"),
        ("0 9 15W * ? *", "2026-11-01T00:00:00Z", "2026-11-16T09:00:00Z"),
        ("0 9 31W * ? *", "2026-11-01T00:00:00Z", "2026-12-31T09:00:00Z"),
        ("0 18 ? * MON-FRI *", "2026-12-05T00:00:00Z", "2026-12-07T18:00:00Z"),
        ("0 18 ? * 1 *", "2026-12-05T00:00:00Z", "2026-12-06T18:00:00Z"),
        ("0 0 29 2 ? *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"),
        ("0 0 1 1 ? 2030", "2026-12-05T00:00:00Z", "2030-01-01T00:00:00Z"),
        ("30 23 31 DEC ? *", "2026-12-31T23:30:00Z", "2027-12-31T23:30:00Z"),
    ];

    #[test]
    fn next_fire_times_follow_aws_rules() {
        for (expression, after, expected) in CASES {
            let cron = Cron::parse(expression).unwrap_or_else(|e| panic!("{expression}: {e}"));
            assert_eq!(cron.next_after(at(after)), Some(at(expected)), "{expression} after {after}");
        }
    }

    #[test]
    fn malformed_expressions_say_what_is_wrong() {
        assert!(Cron::parse("0 12 * * *").unwrap_err().contains("six fields"));
        assert!(Cron::parse("0 12 * * * *").unwrap_err().contains("must be `?`"));
        assert!(Cron::parse("0 12 ? * ? *").unwrap_err().contains("both be `?`"));
        assert!(Cron::parse("60 12 * * ? *").unwrap_err().contains("minutes: 60 is outside 0-59"));
        assert!(Cron::parse("0 12 ? * 0 *").unwrap_err().contains("day-of-week: 0 is outside 1-7"));
        assert!(Cron::parse("0 12 * * ? 1969").is_err());
        assert_eq!(Cron::parse("0 0 1 1 ? 2020").unwrap().next_after(at("2026-01-01T00:00:00Z")), None);
    }
}
