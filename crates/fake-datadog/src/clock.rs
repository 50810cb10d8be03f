//! Timestamps in the two RFC 3339 precisions the live API shows: a response
//! to the write that produced a timestamp carries nanoseconds, every later
//! read carries microseconds (the value as stored). Both drop trailing zeros
//! in the fraction, as Go's `time.RFC3339Nano` does.

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Timestamp(u128);

/// How many fraction digits to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Precision {
    /// Fresh from the write that set it.
    Nanos,
    /// Read back from storage.
    Micros,
}

impl Timestamp {
    pub(crate) fn now() -> Self {
        // A clock before 1970 is a broken machine; 0 keeps the fake answering.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Self(nanos)
    }

    #[cfg(test)]
    pub(crate) fn from_nanos(nanos: u128) -> Self {
        Self(nanos)
    }

    pub(crate) fn render(self, precision: Precision) -> String {
        let secs = self.0 / 1_000_000_000;
        let mut frac = self.0 % 1_000_000_000;
        let mut digits = 9usize;
        if precision == Precision::Micros {
            frac /= 1_000;
            digits = 6;
        }
        let days = (secs / 86_400) as i64;
        let rem = secs % 86_400;
        let (y, m, d) = civil_from_days(days);
        let (hh, mm, ss) = (rem / 3600, (rem % 3600) / 60, rem % 60);
        let mut out = format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}");
        if frac != 0 {
            let mut f = format!("{frac:0digits$}");
            while f.ends_with('0') {
                f.pop();
            }
            out.push('.');
            out.push_str(&f);
        }
        out.push('Z');
        out
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (H. Hinnant's `civil_from_days`), so no date crate is needed.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_go_rfc3339nano() {
        // 2025-08-22T18:02:28.659715170Z, as seen in a live create response.
        let t = Timestamp::from_nanos(1_755_885_748_659_715_170);
        assert_eq!(t.render(Precision::Nanos), "2025-08-22T18:02:28.65971517Z");
        assert_eq!(t.render(Precision::Micros), "2025-08-22T18:02:28.659715Z");
    }

    #[test]
    fn whole_seconds_have_no_fraction() {
        assert_eq!(
            Timestamp::from_nanos(0).render(Precision::Nanos),
            "1970-01-01T00:00:00Z"
        );
        let leap = Timestamp::from_nanos(951_782_400 * 1_000_000_000 + 1_000);
        assert_eq!(
            leap.render(Precision::Micros),
            "2000-02-29T00:00:00.000001Z"
        );
    }
}
