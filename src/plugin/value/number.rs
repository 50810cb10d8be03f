//! Terraform's `number`: an arbitrary-precision decimal.
//!
//! go-cty keeps numbers as 512-bit binary floats and Terraform sends them as
//! msgpack ints, float64s or decimal strings. We keep the exact decimal the
//! wire gave us, normalised on construction (`1`, `1.0`, `10e-1` and `1e0`
//! are one value), so derived equality and hashing are numeric and nothing
//! is rounded on the way through the provider. This file owns parsing,
//! canonical text, conversions to machine numbers, and the "which msgpack
//! form is lossless" question; it knows nothing about the wire formats.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::ValueError;

/// Largest accepted decimal exponent magnitude. Far beyond anything real
/// (f64 stops at 1e308) but keeps every exponent computation inside `i64`
/// and refuses garbage like `1e99999999999999999999`.
const MAX_EXPONENT: i64 = 1_000_000_000;

/// Canonical text switches to scientific notation when plain notation would
/// need more than this many padding zeros, so a tiny input like `1e400`
/// cannot expand into a huge string.
const MAX_PLAIN_ZEROS: i64 = 21;

/// An arbitrary-precision decimal number, always finite.
///
/// Equality, hashing and ordering are numeric because the representation
/// is canonical: digits without leading or trailing zeros, the position of
/// the decimal point as a power of ten, and no negative zero.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number {
    /// True for values below zero (never set for zero).
    neg: bool,
    /// Significant digits; `"0"` only for zero.
    digits: String,
    /// Value = digits × 10^exp.
    exp: i64,
    /// Canonical text, cached so `as_str` can borrow it.
    text: String,
}

impl Number {
    /// The number zero.
    pub fn zero() -> Self {
        Self::from_parts(false, String::from("0"), 0)
    }

    /// Exact conversion from a signed machine integer.
    pub fn from_i64(v: i64) -> Self {
        let digits = v.unsigned_abs().to_string();
        Self::from_digits(v < 0, &digits, 0)
    }

    /// Exact conversion from an unsigned machine integer.
    pub fn from_u64(v: u64) -> Self {
        Self::from_digits(false, &v.to_string(), 0)
    }

    /// The shortest decimal that reads back as exactly `v` (`0.1`, not
    /// `0.1000000000000000055…`), or `None` for NaN and infinities, which a
    /// Terraform number cannot hold on our side. `-0.0` becomes `0`.
    pub fn from_f64(v: f64) -> Option<Self> {
        if !v.is_finite() {
            return None;
        }
        // `{:e}` prints the shortest round-trip digits, in a form our parser
        // accepts, without ever expanding large exponents.
        Self::parse(&format!("{v:e}")).ok()
    }

    /// Parses decimal text: optional sign, digits with an optional point
    /// (`1.`, `.5` are accepted, as Go's `big.ParseFloat` does), optional
    /// `e`/`E` exponent. No whitespace, hex, underscores, `inf` or `NaN`.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let invalid = |reason: &'static str| ValueError::InvalidNumber {
            path: super::AttrPath::empty(),
            text: truncate_for_message(text),
            reason,
        };
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if let Some(&sign) = bytes.first() {
            if sign == b'+' || sign == b'-' {
                neg = sign == b'-';
                i = 1;
            }
        }
        let int_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let int_part = &text[int_start..i];
        let mut frac_part = "";
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            let frac_start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            frac_part = &text[frac_start..i];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid("no digits"));
        }
        let mut exp: i64 = 0;
        if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
            i += 1;
            let mut exp_neg = false;
            if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
                exp_neg = bytes[i] == b'-';
                i += 1;
            }
            let exp_start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                // Saturate instead of overflowing; the range check follows.
                exp = exp
                    .saturating_mul(10)
                    .saturating_add(i64::from(bytes[i] - b'0'));
                i += 1;
            }
            if i == exp_start {
                return Err(invalid("exponent has no digits"));
            }
            if exp > MAX_EXPONENT {
                return Err(invalid("exponent out of range"));
            }
            if exp_neg {
                exp = -exp;
            }
        }
        if i != bytes.len() {
            return Err(invalid("unexpected character"));
        }
        let frac_len = i64::try_from(frac_part.len()).map_err(|_| invalid("too long"))?;
        let mut digits = String::with_capacity(int_part.len() + frac_part.len());
        digits.push_str(int_part);
        digits.push_str(frac_part);
        let number = Self::from_digits(neg, &digits, exp - frac_len);
        if !number.is_zero() && number.sci_exp().abs() > MAX_EXPONENT {
            return Err(invalid("exponent out of range"));
        }
        Ok(number)
    }

    /// Builds a canonical number from a digit string (may have leading or
    /// trailing zeros) and a power-of-ten exponent.
    fn from_digits(neg: bool, digits: &str, exp: i64) -> Self {
        let trimmed = digits.trim_start_matches('0');
        let significant = trimmed.trim_end_matches('0');
        if significant.is_empty() {
            return Self::zero();
        }
        let trailing = trimmed.len() - significant.len();
        // `trailing` is at most the input length, so it fits an i64.
        let exp = exp.saturating_add(i64::try_from(trailing).unwrap_or(i64::MAX));
        Self::from_parts(neg, significant.to_owned(), exp)
    }

    fn from_parts(neg: bool, digits: String, exp: i64) -> Self {
        let text = canonical_text(neg, &digits, exp);
        Self {
            neg,
            digits,
            exp,
            text,
        }
    }

    /// Canonical text: plain decimal (`12.5`, `0.001`, `100`) unless that
    /// would need more than 21 padding zeros, then scientific (`1e400`,
    /// `-1.5e-30`). Always valid JSON number syntax and accepted by cty.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.digits == "0"
    }

    /// True for values below zero.
    pub fn is_negative(&self) -> bool {
        self.neg
    }

    /// True when the value has no fractional part.
    pub fn is_integer(&self) -> bool {
        self.exp >= 0
    }

    /// Exponent of the leading digit: value = d.ddd × 10^sci_exp.
    fn sci_exp(&self) -> i64 {
        let len = i64::try_from(self.digits.len()).unwrap_or(i64::MAX);
        self.exp.saturating_add(len - 1)
    }

    /// The value as an `i128` when it is an integer of at most 38 digits.
    fn to_i128(&self) -> Option<i128> {
        if self.is_zero() {
            return Some(0);
        }
        if self.exp < 0 || self.sci_exp() > 37 {
            return None;
        }
        let mut magnitude: i128 = self.digits.parse().ok()?;
        for _ in 0..self.exp {
            magnitude = magnitude.checked_mul(10)?;
        }
        Some(if self.neg { -magnitude } else { magnitude })
    }

    /// The value as `i64` when it is an integer in range; `None` otherwise
    /// (never rounds or truncates).
    pub fn as_i64(&self) -> Option<i64> {
        self.to_i128().and_then(|v| i64::try_from(v).ok())
    }

    /// The value as `u64` when it is a non-negative integer in range.
    pub fn as_u64(&self) -> Option<u64> {
        self.to_i128().and_then(|v| u64::try_from(v).ok())
    }

    /// The nearest `f64` (may round, e.g. `0.1`), or `None` when the
    /// magnitude is beyond `f64::MAX`. Very small values round to zero.
    pub fn as_f64(&self) -> Option<f64> {
        self.text.parse::<f64>().ok().filter(|v| v.is_finite())
    }

    /// The `f64` to put on the wire if, and only if, writing a float64 loses
    /// nothing: the non-integer value is exactly a binary double (cty's rule:
    /// `0.5` yes, `0.1` no) and our decoder's shortest-digits reading of that
    /// double gives back this very number. Integers are never sent as floats
    /// (cty sends them as ints, or as strings when they don't fit).
    pub(super) fn exact_f64(&self) -> Option<f64> {
        if self.exp >= 0 || self.digits.len() > 17 {
            // Integers are handled by the caller; more than 17 significant
            // digits never survive the shortest-digits reading.
            return None;
        }
        let k = u32::try_from(-self.exp).ok()?;
        // value = m / 10^k = (m / 5^k) / 2^k, exact only if 5^k divides m.
        // m < 10^17 < 5^25, so larger k can never divide.
        if k > 24 {
            return None;
        }
        let m: u64 = self.digits.parse().ok()?;
        let p5 = 5u64.checked_pow(k)?;
        if !m.is_multiple_of(p5) {
            return None;
        }
        let m2 = m / p5;
        // The odd part must fit the 53-bit significand; k <= 24 keeps the
        // binary exponent far from subnormals.
        if (m2 >> m2.trailing_zeros()) >= (1u64 << 53) {
            return None;
        }
        // Both conversions are exact: the odd part of m2 fits 53 bits and
        // 2^k (k <= 24) is a power of two.
        let magnitude = (m2 as f64) / f64::from(1u32 << k);
        let v = if self.neg { -magnitude } else { magnitude };
        (Number::from_f64(v).as_ref() == Some(self)).then_some(v)
    }
}

/// Builds the canonical text described on [`Number::as_str`].
fn canonical_text(neg: bool, digits: &str, exp: i64) -> String {
    let mut out = String::with_capacity(digits.len() + 8);
    if neg {
        out.push('-');
    }
    let len = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    // Number of digits before the decimal point in plain notation.
    let point = len.saturating_add(exp);
    if (0..=MAX_PLAIN_ZEROS).contains(&exp) {
        out.push_str(digits);
        for _ in 0..exp {
            out.push('0');
        }
    } else if exp < 0 && point > 0 {
        // `point` < len here, so it is a valid char boundary (ASCII digits).
        let split = usize::try_from(point).unwrap_or(0);
        out.push_str(&digits[..split]);
        out.push('.');
        out.push_str(&digits[split..]);
    } else if exp < 0 && -point <= MAX_PLAIN_ZEROS {
        out.push_str("0.");
        for _ in 0..(-point) {
            out.push('0');
        }
        out.push_str(digits);
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push_str(&(point - 1).to_string());
    }
    out
}

/// Keeps error messages small when the offending text is huge.
fn truncate_for_message(text: &str) -> String {
    const MAX: usize = 64;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

impl Ord for Number {
    /// Numeric order.
    fn cmp(&self, other: &Self) -> Ordering {
        let sign = |n: &Number| -> i8 {
            if n.is_zero() {
                0
            } else if n.neg {
                -1
            } else {
                1
            }
        };
        let (a, b) = (sign(self), sign(other));
        if a != b || a == 0 {
            return a.cmp(&b);
        }
        // Same sign, both non-zero: compare magnitudes. Digits carry no
        // trailing zeros, so a plain string comparison orders mantissas
        // with equal leading exponent.
        let magnitude = self
            .sci_exp()
            .cmp(&other.sci_exp())
            .then_with(|| self.digits.as_str().cmp(other.digits.as_str()));
        if a < 0 {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({})", self.text)
    }
}

impl FromStr for Number {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Default for Number {
    fn default() -> Self {
        Self::zero()
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Self {
        Self::from_i64(v)
    }
}

impl From<i32> for Number {
    fn from(v: i32) -> Self {
        Self::from_i64(i64::from(v))
    }
}

impl From<u64> for Number {
    fn from(v: u64) -> Self {
        Self::from_u64(v)
    }
}

impl From<u32> for Number {
    fn from(v: u32) -> Self {
        Self::from_u64(u64::from(v))
    }
}

impl From<usize> for Number {
    fn from(v: usize) -> Self {
        Self::from_u64(v as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap_or_else(|e| panic!("parse {s:?}: {e}"))
    }

    #[test]
    fn parse_normalises_to_canonical_text() {
        let cases = [
            ("integer", "1", "1"),
            ("trailing fraction zeros", "1.0", "1"),
            ("exponent zero", "1e0", "1"),
            ("scaled", "10e-1", "1"),
            ("plus sign and padding", "+001.000", "1"),
            ("negative zero", "-0", "0"),
            ("zero with exponent", "0e999", "0"),
            ("decimal", "0.1", "0.1"),
            ("leading point", ".5", "0.5"),
            ("trailing point", "5.", "5"),
            ("upper-case exponent", "1.5E-7", "0.00000015"),
            ("21 leading zeros stay plain", "1e-22", "0.0000000000000000000001"),
            ("22 leading zeros go scientific", "1e-23", "1e-23"),
            ("small plain", "0.000001", "0.000001"),
            ("big integer stays plain", "123456789012345678901234567890", "123456789012345678901234567890"),
            ("1e21 is plain", "1e21", "1000000000000000000000"),
            ("1e22 is scientific", "1e22", "1e22"),
            ("huge exponent", "1e400", "1e400"),
            ("tiny exponent", "-2.50e-400", "-2.5e-400"),
            ("many digits", "3.14159265358979323846264338327950288", "3.14159265358979323846264338327950288"),
            ("negative", "-42.4200", "-42.42"),
        ];
        for (name, input, want) in cases {
            assert_eq!(n(input).as_str(), want, "case {name}");
            // Canonical text must read back as the same number.
            assert_eq!(n(want), n(input), "case {name} reparse");
        }
    }

    #[test]
    fn parse_rejects_what_is_not_a_finite_decimal() {
        let cases = [
            "", "-", "+", ".", "1e", "e1", "1e+", "1.2.3", "inf", "Inf", "NaN", " 1", "1 ",
            "0x10", "1_000", "1e99999999999999999999", "1e1000000001", "--1", "1,5",
        ];
        for input in cases {
            assert!(Number::parse(input).is_err(), "{input:?} should be rejected");
        }
    }

    #[test]
    fn equality_is_numeric() {
        assert_eq!(n("1"), n("1.0"));
        assert_eq!(n("1"), n("1e0"));
        assert_eq!(n("100"), n("1e2"));
        assert_eq!(Number::from_i64(7), n("7.000"));
        assert_ne!(n("0.1"), n("0.10000000000000001"));
    }

    #[test]
    fn from_f64_uses_shortest_round_trip_digits() {
        let cases = [
            (0.1, "0.1"),
            (1.5, "1.5"),
            (-0.0, "0"),
            (1e300, "1e300"),
            (f64::MAX, "1.7976931348623157e308"),
            (5e-324, "5e-324"),
            (1e21, "1000000000000000000000"),
            (123.456, "123.456"),
        ];
        for (v, want) in cases {
            assert_eq!(Number::from_f64(v).map(|x| x.text), Some(want.to_owned()), "{v}");
        }
        assert_eq!(Number::from_f64(f64::NAN), None);
        assert_eq!(Number::from_f64(f64::INFINITY), None);
        assert_eq!(Number::from_f64(f64::NEG_INFINITY), None);
    }

    #[test]
    fn machine_conversions_never_truncate() {
        assert_eq!(Number::from_i64(i64::MIN).as_i64(), Some(i64::MIN));
        assert_eq!(Number::from_i64(i64::MAX).as_i64(), Some(i64::MAX));
        assert_eq!(Number::from_u64(u64::MAX).as_u64(), Some(u64::MAX));
        assert_eq!(Number::from_u64(u64::MAX).as_i64(), None);
        assert_eq!(n("-1").as_u64(), None);
        assert_eq!(n("1.5").as_i64(), None);
        assert_eq!(n("1e19").as_i64(), None);
        assert_eq!(n("1e19").as_u64(), Some(10_000_000_000_000_000_000));
        assert_eq!(n("1e400").as_u64(), None);
        assert_eq!(n("1e400").as_f64(), None);
        assert_eq!(n("0.1").as_f64(), Some(0.1));
        assert_eq!(n("2e3").as_i64(), Some(2000));
    }

    #[test]
    fn exact_f64_only_for_lossless_non_integers() {
        let cases = [
            ("half", "0.5", Some(0.5)),
            ("three eighths", "-0.375", Some(-0.375)),
            ("one point five", "1.5", Some(1.5)),
            ("decimal tenth is not binary", "0.1", None),
            ("integer goes as int or string", "3", None),
            ("big integer", "1e20", None),
            // 2^-24 is exact in binary but its shortest digits are shorter
            // than its exact digits, so a float would read back differently.
            ("exact but not shortest", "5.9604644775390625e-8", None),
            ("too many digits", "0.12345678901234567890", None),
        ];
        for (name, input, want) in cases {
            assert_eq!(n(input).exact_f64(), want, "case {name}");
        }
    }

    #[test]
    fn ordering_is_numeric() {
        let sorted = ["-1e400", "-10", "-2.5", "-0.001", "0", "1e-400", "0.1", "1", "1.01", "9", "10", "1e400"];
        for w in sorted.windows(2) {
            assert!(n(w[0]) < n(w[1]), "{} < {}", w[0], w[1]);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn f64_round_trips_through_number(v in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO) {
            let num = Number::from_f64(v).expect("finite");
            prop_assert_eq!(num.as_f64(), Some(v));
            prop_assert_eq!(Number::parse(num.as_str()).ok(), Some(num.clone()));
            if let Some(x) = num.exact_f64() {
                prop_assert_eq!(x, v);
            }
        }

        #[test]
        fn i64_round_trips_through_number(v in any::<i64>()) {
            prop_assert_eq!(Number::from_i64(v).as_i64(), Some(v));
        }

        #[test]
        fn order_agrees_with_f64_order(a in -1e30f64..1e30, b in -1e30f64..1e30) {
            let (na, nb) = (Number::from_f64(a).expect("finite"), Number::from_f64(b).expect("finite"));
            prop_assert_eq!(na.cmp(&nb), a.partial_cmp(&b).expect("not nan"));
        }

        #[test]
        fn decimal_text_round_trips(mantissa in "-?[0-9]{1,40}(\\.[0-9]{1,40})?", exp in -500i64..500) {
            let num = Number::parse(&format!("{mantissa}e{exp}")).expect("valid");
            prop_assert_eq!(Number::parse(num.as_str()).ok(), Some(num.clone()));
        }
    }
}
