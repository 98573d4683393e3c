//! Market hours as a pure function of a Unix timestamp and a configuration.
//!
//! The IANA database is compiled into the binary by `chrono-tz`: the Lambda runtime has no
//! zoneinfo files.

use chrono::{DateTime, Datelike, NaiveTime, Timelike, Weekday};
use chrono_tz::Tz;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketHours {
    tz: Tz,
    open: NaiveTime,
    close: NaiveTime,
    /// Indexed by `Weekday::num_days_from_monday`.
    days: [bool; 7],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarketConfigError {
    #[error("MARKET_TIMEZONE {0:?} is not an IANA time zone")]
    TimeZone(String),
    #[error("{0} {1:?} is not a time of day as HH:MM")]
    Time(&'static str, String),
    #[error("MARKET_OPEN and MARKET_CLOSE must differ")]
    EmptySession,
    #[error("MARKET_DAYS {0:?} is not a list of days or ranges such as Mon-Fri,Sun")]
    Days(String),
}

impl Default for MarketHours {
    fn default() -> Self {
        MarketHours::parse("America/Mexico_City", "06:00", "15:00", "").expect("valid defaults")
    }
}

impl MarketHours {
    /// From `MARKET_TIMEZONE`, `MARKET_OPEN`, `MARKET_CLOSE` and `MARKET_DAYS` as `get` reads
    /// them (the environment, in a function); unset or empty means the default.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, MarketConfigError> {
        let or = |k: &str, d: &str| get(k).filter(|v| !v.is_empty()).unwrap_or_else(|| d.into());
        MarketHours::parse(
            &or("MARKET_TIMEZONE", "America/Mexico_City"),
            &or("MARKET_OPEN", "06:00"),
            &or("MARKET_CLOSE", "15:00"),
            &or("MARKET_DAYS", ""),
        )
    }

    /// `days` is empty or `*` for every day, else comma-separated days or ranges
    /// (`Mon-Fri`, `Fri-Mon` wraps). A close before the open is an overnight session.
    pub fn parse(tz: &str, open: &str, close: &str, days: &str) -> Result<Self, MarketConfigError> {
        let tz: Tz = tz
            .parse()
            .map_err(|_| MarketConfigError::TimeZone(tz.to_owned()))?;
        let time = |name, s: &str| {
            NaiveTime::parse_from_str(s, "%H:%M")
                .map_err(|_| MarketConfigError::Time(name, s.to_owned()))
        };
        let (open, close) = (time("MARKET_OPEN", open)?, time("MARKET_CLOSE", close)?);
        if open == close {
            return Err(MarketConfigError::EmptySession);
        }
        let days = parse_days(days).ok_or_else(|| MarketConfigError::Days(days.to_owned()))?;
        Ok(MarketHours {
            tz,
            open,
            close,
            days,
        })
    }

    pub fn is_open(&self, timestamp: i64) -> bool {
        let Some(utc) = DateTime::from_timestamp(timestamp, 0) else {
            return false;
        };
        let local = utc.with_timezone(&self.tz);
        let time = NaiveTime::from_hms_opt(local.hour(), local.minute(), local.second())
            .expect("a clock time is valid");
        let today = self.days[local.weekday().num_days_from_monday() as usize];
        if self.open < self.close {
            today && self.open <= time && time < self.close
        } else {
            // Overnight: the part after midnight belongs to the session opened the day before.
            let yesterday = self.days[local.weekday().pred().num_days_from_monday() as usize];
            (today && time >= self.open) || (yesterday && time < self.close)
        }
    }
}

fn parse_days(spec: &str) -> Option<[bool; 7]> {
    let spec = spec.trim();
    if spec.is_empty() || spec == "*" {
        return Some([true; 7]);
    }
    let mut days = [false; 7];
    for part in spec.split(',') {
        let (first, last) = match part.split_once('-') {
            Some((a, b)) => (day(a)?, day(b)?),
            None => (day(part)?, day(part)?),
        };
        let mut d = first;
        loop {
            days[d.num_days_from_monday() as usize] = true;
            if d == last {
                break;
            }
            d = d.succ();
        }
    }
    Some(days)
}

fn day(s: &str) -> Option<Weekday> {
    s.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2019-10-17 (Thursday) in Mexico City, UTC-5 that day (daylight saving time then).
    const THU_0600_CDT: i64 = 1_571_310_000;

    #[test]
    fn default_session_is_six_to_fifteen_mexico_city_inclusive_exclusive() {
        let m = MarketHours::default();
        assert!(!m.is_open(THU_0600_CDT - 1));
        assert!(m.is_open(THU_0600_CDT));
        assert!(m.is_open(THU_0600_CDT + 9 * 3600 - 1));
        assert!(!m.is_open(THU_0600_CDT + 9 * 3600));
    }

    #[test]
    fn the_challenge_examples_fall_where_the_spec_says() {
        let m = MarketHours::default();
        assert!(m.is_open(1_571_325_625)); // 10:20 in Mexico City
        assert!(!m.is_open(1_583_362_645)); // 16:57 in Mexico City
    }

    #[test]
    fn mexico_city_has_no_daylight_saving_after_2022() {
        // 2024-07-01 06:00 local is 12:00 UTC (UTC-6 all year since Oct 2022).
        let m = MarketHours::default();
        assert!(m.is_open(1_719_835_200));
        assert!(!m.is_open(1_719_835_200 - 1));
    }

    #[test]
    fn market_days_restrict_the_week() {
        let m = MarketHours::parse("America/Mexico_City", "06:00", "15:00", "Mon-Fri").unwrap();
        assert!(m.is_open(THU_0600_CDT));
        assert!(!m.is_open(THU_0600_CDT + 2 * 86_400 + 3600)); // Saturday 07:00
        let wrap = MarketHours::parse("UTC", "00:00", "23:59", "Fri-Mon").unwrap();
        assert_eq!(wrap.days, [true, false, false, false, true, true, true]);
    }

    #[test]
    fn overnight_sessions_wrap_midnight() {
        let m = MarketHours::parse("UTC", "22:00", "02:00", "").unwrap();
        assert!(m.is_open(22 * 3600));
        assert!(m.is_open(86_400 + 3600));
        assert!(!m.is_open(12 * 3600));
    }

    #[test]
    fn bad_configuration_is_refused() {
        assert!(matches!(
            MarketHours::parse("Mars/Base", "06:00", "15:00", ""),
            Err(MarketConfigError::TimeZone(_))
        ));
        assert!(matches!(
            MarketHours::parse("UTC", "6am", "15:00", ""),
            Err(MarketConfigError::Time(..))
        ));
        assert!(matches!(
            MarketHours::parse("UTC", "06:00", "06:00", ""),
            Err(MarketConfigError::EmptySession)
        ));
        assert!(matches!(
            MarketHours::parse("UTC", "06:00", "15:00", "Mon-Funday"),
            Err(MarketConfigError::Days(_))
        ));
    }
}
