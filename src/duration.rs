//! Durations as Terraform users write them: `90s`, `5m`, `1h30m`, `0s`.

use std::time::Duration;

/// Parses a Go-style duration (units `ms`, `s`, `m`, `h`; a bare `0` is allowed).
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    if t.is_empty() {
        return Err("a duration is required, e.g. \"90s\", \"5m\" or \"1h30m\"".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("{text:?} is not a duration: expected a number, e.g. \"90s\", \"5m\" or \"1h30m\""));
        }
        let n: u64 = rest[..digits].parse().map_err(|_| format!("{text:?} is too long a duration"))?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.saturating_mul(60)),
            "h" => Duration::from_secs(n.saturating_mul(3600)),
            "" => return Err(format!("{text:?} is missing a unit: use ms, s, m or h")),
            u => return Err(format!("{text:?} has an unknown unit {u:?}: use ms, s, m or h")),
        };
        total = total.saturating_add(unit);
        rest = &rest[unit_len..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_style_durations_parse_and_nonsense_is_refused() {
        for (text, secs) in [("0", 0), ("0s", 0), ("90s", 90), ("5m", 300), ("1h30m", 5400)] {
            assert_eq!(parse(text), Ok(Duration::from_secs(secs)), "{text}");
        }
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        for bad in ["", "5", "m", "5x", "-1s", "1.5h"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
