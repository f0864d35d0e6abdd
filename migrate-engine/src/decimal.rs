//! Numbers written as the standard library's float printer writes them, by integer arithmetic:
//! the float printer (Grisu and Dragon with their tables, about 20 KiB) is then not linked
//! into a program using the runtime, whose only floats are durations in reports and a REAL in
//! a corrupt version table's message.

use std::cmp::Ordering;
use std::fmt;
use std::time::Duration;

/// A duration with one decimal, written exactly as `format!("{:.1}", value)` writes its
/// `f64` (the nearest tenth of the exact binary value, ties to even).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OneDecimal(f64);

impl OneDecimal {
    /// `duration` in milliseconds: `duration.as_secs_f64() * 1000.0`.
    pub(crate) fn millis(duration: Duration) -> OneDecimal {
        OneDecimal(duration.as_secs_f64() * 1000.0)
    }

    /// `duration` in seconds: `duration.as_secs_f64()`.
    #[cfg(any(test, feature = "tokio-postgres"))]
    pub(crate) fn seconds(duration: Duration) -> OneDecimal {
        OneDecimal(duration.as_secs_f64())
    }

    /// The value in tenths, rounded as `{:.1}` rounds. The value comes from a `Duration`, so
    /// it is finite, not negative and below 2^75 (`u64::MAX` seconds in milliseconds).
    fn tenths(self) -> u128 {
        let (mantissa, power) = decode(self.0);
        let scaled = u128::from(mantissa) * 10;
        if power >= 0 {
            return scaled << power;
        }
        let shift = power.unsigned_abs();
        if shift > 64 {
            // Below 10 × 2^53 × 2^-65, under a tenth of a half: rounds to zero.
            return 0;
        }
        let whole = scaled >> shift;
        let rest = scaled & ((1 << shift) - 1);
        let half = 1 << (shift - 1);
        if rest > half || (rest == half && whole % 2 == 1) {
            whole + 1
        } else {
            whole
        }
    }
}

impl fmt::Display for OneDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenths = self.tenths();
        let whole = tenths / 10;
        let fraction = u8::try_from(tenths % 10).unwrap_or(0);
        // `u64` rather than `u128` digits: the latter's printer is 1.4 KiB more.
        const E19: u128 = 10_000_000_000_000_000_000;
        match (u64::try_from(whole / E19), u64::try_from(whole % E19)) {
            (Ok(0), Ok(low)) => write!(f, "{low}.{fraction}"),
            (Ok(high), Ok(low)) => write!(f, "{high}{low:019}.{fraction}"),
            _ => unreachable_duration(f),
        }
    }
}

#[cold]
fn unreachable_duration(f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // A `Duration` in milliseconds is below 2^75, so its whole part has two `u64` halves.
    f.write_str("?")
}

/// `value` (not negative, finite) as `mantissa × 2^power`, exactly.
fn decode(value: f64) -> (u64, i32) {
    let bits = value.to_bits();
    let exponent = i32::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
    let fraction = bits & ((1 << 52) - 1);
    if exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | 1 << 52, exponent - 1075)
    }
}

/// A float in the fewest significant digits that read back as the same float: as
/// `value.to_string()` writes it (`exponent` false) or as `format!("{value:e}")` does.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shortest {
    /// The value.
    pub(crate) value: f64,
    /// Whether to write `1.5e16` rather than `15000000000000000`.
    pub(crate) exponent: bool,
}

impl fmt::Display for Shortest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.value;
        if value.is_nan() {
            return f.write_str("NaN");
        }
        if value.is_sign_negative() {
            f.write_str("-")?;
        }
        if value.is_infinite() {
            return f.write_str("inf");
        }
        if value == 0.0 {
            return f.write_str(if self.exponent { "0e0" } else { "0" });
        }
        let (digits, point) = shortest_digits(value.abs());
        let digits = String::from_utf8_lossy(&digits);
        let len = i64::try_from(digits.len()).unwrap_or(i64::MAX);
        if self.exponent {
            let (first, rest) = digits.split_at(1);
            let dot = if rest.is_empty() { "" } else { "." };
            write!(f, "{first}{dot}{rest}e{}", point - 1)
        } else if point <= 0 {
            write!(f, "0.{:0>width$}", digits, width = (len - point) as usize)
        } else if point >= len {
            write!(f, "{digits}{:0>width$}", "", width = (point - len) as usize)
        } else {
            let (whole, fraction) = digits.split_at(point as usize);
            write!(f, "{whole}.{fraction}")
        }
    }
}

/// The shortest digits (ASCII, no trailing zero) of `value` (positive, finite) that read back
/// as `value`, the nearest such where several are as short, and where the point goes:
/// `value` ≈ 0.digits × 10^point.
fn shortest_digits(value: f64) -> (Vec<u8>, i64) {
    let (mantissa, power) = decode(value);
    // The value and the bounds of what reads back as it, all times 2^(power - 2): the bounds
    // are halfway to the neighbours (a quarter below, at a power of two where the gap below
    // halves). A bound reads back as the value when the mantissa is even (ties to even).
    let scaled = mantissa << 2;
    let below_gap = if mantissa == 1 << 52 && power > -1074 {
        1
    } else {
        2
    };
    let power = power - 2;
    let inclusive = mantissa % 2 == 0;
    let value_digits = exact(scaled, power);
    let low = exact(scaled - below_gap, power);
    let high = exact(scaled + 2, power);
    // value = value_digits × 10^scale.
    let scale = i64::from(power.min(0));
    let inside = |candidate: &[u8]| {
        let within = |order: Ordering, wanted: Ordering| {
            order == wanted || (inclusive && order == Ordering::Equal)
        };
        within(compare(candidate, &low), Ordering::Greater)
            && within(compare(candidate, &high), Ordering::Less)
    };
    for count in 1..=value_digits.len() {
        // The nearest number of `count` digits; where it falls outside (the interval is
        // narrower below a power of two), the one on the other side of the value.
        let mut candidate = round_to(&value_digits, count, Round::Nearest);
        if !inside(&candidate) {
            candidate = match compare(&candidate, &value_digits) {
                Ordering::Greater => round_to(&value_digits, count, Round::Down),
                _ => round_to(&value_digits, count, Round::Up),
            };
        }
        if inside(&candidate) {
            let point = i64::try_from(candidate.len()).unwrap_or(i64::MAX) + scale;
            let mut digits = candidate;
            while digits.last() == Some(&b'0') {
                digits.pop();
            }
            return (digits, point);
        }
    }
    let point = i64::try_from(value_digits.len()).unwrap_or(i64::MAX) + scale;
    (value_digits, point)
}

/// The decimal digits of `n × 2^power`, times 10^-power where `power` is negative.
fn exact(n: u64, power: i32) -> Vec<u8> {
    let mut big = Big(vec![n as u32, (n >> 32) as u32]);
    let factor = if power >= 0 { 2 } else { 5 };
    for _ in 0..power.unsigned_abs() {
        big.mul_small(factor);
    }
    big.decimal()
}

/// How [`round_to`] rounds.
#[derive(Clone, Copy)]
enum Round {
    /// To the nearest, ties away from zero (as the float printer's shortest digits do).
    Nearest,
    /// Toward zero.
    Down,
    /// Away from zero.
    Up,
}

/// `digits` rounded to `count` significant digits, as digits of the same magnitude (one
/// longer where the rounding carries).
fn round_to(digits: &[u8], count: usize, round: Round) -> Vec<u8> {
    let (kept, rest) = digits.split_at(count);
    let mut rounded = kept.to_vec();
    let up = match (rest.split_first(), round) {
        (None, _) | (_, Round::Down) => false,
        (Some(_), Round::Up) => rest.iter().any(|&d| d != b'0'),
        (Some((&first, _)), Round::Nearest) => first >= b'5',
    };
    if up {
        let mut carry = true;
        for digit in rounded.iter_mut().rev() {
            if *digit == b'9' {
                *digit = b'0';
            } else {
                *digit += 1;
                carry = false;
                break;
            }
        }
        if carry {
            rounded.insert(0, b'1');
        }
    }
    rounded.resize(digits.len() + usize::from(rounded.len() > count), b'0');
    rounded
}

/// Compares two numbers given as decimal digits without leading zeros.
fn compare(a: &[u8], b: &[u8]) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// An unsigned integer in base 2^32 limbs, least significant first.
struct Big(Vec<u32>);

impl Big {
    fn mul_small(&mut self, factor: u32) {
        let mut carry = 0u64;
        for limb in &mut self.0 {
            let product = u64::from(*limb) * u64::from(factor) + carry;
            *limb = product as u32;
            carry = product >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    /// Its decimal digits (ASCII), most significant first, without leading zeros.
    fn decimal(mut self) -> Vec<u8> {
        let mut groups = Vec::new();
        while self.0.iter().any(|&limb| limb != 0) {
            let mut rest = 0u64;
            for limb in self.0.iter_mut().rev() {
                let current = (rest << 32) | u64::from(*limb);
                *limb = (current / 1_000_000_000) as u32;
                rest = current % 1_000_000_000;
            }
            groups.push(rest);
            while self.0.last() == Some(&0) {
                self.0.pop();
            }
        }
        let mut digits = Vec::new();
        for (i, group) in groups.iter().rev().enumerate() {
            let mut chunk = [b'0'; 9];
            let mut n = *group;
            for slot in chunk.iter_mut().rev() {
                *slot = b'0' + (n % 10) as u8;
                n /= 10;
            }
            let start = if i == 0 {
                chunk.iter().position(|&d| d != b'0').unwrap_or(8)
            } else {
                0
            };
            digits.extend_from_slice(&chunk[start..]);
        }
        digits
    }
}

#[cfg(test)]
mod one_decimal_tests {
    use super::{OneDecimal, Shortest};
    use std::time::Duration;

    fn check(duration: Duration) {
        let millis = duration.as_secs_f64() * 1000.0;
        assert_eq!(
            OneDecimal::millis(duration).to_string(),
            format!("{millis:.1}"),
            "{duration:?} in milliseconds"
        );
        let seconds = duration.as_secs_f64();
        assert_eq!(
            OneDecimal::seconds(duration).to_string(),
            format!("{seconds:.1}"),
            "{duration:?} in seconds"
        );
    }

    #[test]
    fn writes_durations_as_the_float_printer_does() {
        // Ties in decimal (x.x5 ms, x.x5 s), which the binary value puts either side of the
        // half or, for 0.25 and 0.75, exactly on it (rounded to even).
        for nanos in [
            0,
            1,
            49_999,
            50_000,
            50_001,
            150_000,
            250_000,
            750_000,
            950_000,
            999_950_000,
            1_250_000,
            2_350_000,
            99_950_000,
        ] {
            check(Duration::from_nanos(nanos));
        }
        for secs in [
            0,
            1,
            59,
            3_600,
            86_400 * 365,
            u64::from(u32::MAX),
            1 << 52,
            u64::MAX,
        ] {
            for nanos in [0, 50_000, 250_000, 999_999_999, 50_000_000, 250_000_000] {
                check(Duration::new(secs, nanos));
            }
        }
        // A spread of ordinary durations: every tie of a tenth of a millisecond up to 2 s,
        // and pseudo-random nanoseconds.
        for tenth in 0..20_000u64 {
            check(Duration::from_nanos(tenth * 100_000 + 50_000));
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            check(Duration::from_nanos(x % 100_000_000_000));
            check(Duration::from_nanos(x >> (x % 64)));
        }
    }

    fn check_shortest(value: f64) {
        let shown = Shortest {
            value,
            exponent: false,
        };
        assert_eq!(shown.to_string(), value.to_string(), "{value:?}");
        let shown = Shortest {
            value,
            exponent: true,
        };
        assert_eq!(shown.to_string(), format!("{value:e}"), "{value:?}");
    }

    #[test]
    fn writes_floats_as_the_float_printer_does() {
        for value in [
            0.0,
            -0.0,
            1.5,
            -1.25,
            0.1,
            0.3,
            0.1 + 0.2,
            1e-7,
            123.456,
            1.8e19,
            1e16,
            9_007_199_254_740_993.0,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::MIN_POSITIVE * 2.0,
            5e-324,
            1e23,
            2f64.powi(-1022) * 3.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ] {
            check_shortest(value);
        }
        // Powers of two (where the gap below halves) and pseudo-random bit patterns.
        for power in -1074..1024 {
            check_shortest(2f64.powi(power));
        }
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..50_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let value = f64::from_bits(x);
            check_shortest(value);
            check_shortest(value.fract() + (x % 1000) as f64);
        }
    }
}
