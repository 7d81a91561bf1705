//! The value parsers behind the flags: numbers, amounts, durations, the token, the symbol and
//! the memo, each failing with a [`UsageError`] that names the flag and what would be valid.

use std::time::Duration;

use crate::cli::RunArgs;
use crate::model::UsageError;
use crate::protocol::{Address, Memo, U256, parse_u256};

/// The memo of every payment, within the node's limits (PROTOCOL.md section 8.3).
pub(super) fn memo_from_args(args: &RunArgs, post_rate: u32) -> Result<Memo, UsageError> {
    let memo = Memo::new(&args.memo_type, &args.memo_format, &args.memo_data);
    memo.validate().map_err(|e| {
        UsageError::new(format!(
            "--memo-type/--memo-format/--memo-data: {}",
            e.message
        ))
    })?;
    if post_rate == 0 && !memo.is_empty() {
        return Err(UsageError::new(
            "--memo-type/--memo-format/--memo-data go on payments; --post-rate 0 sends none",
        ));
    }
    Ok(memo)
}

/// Parses a duration: a number with a unit, ms, s, m or h (e.g. 500ms, 90s, 10m).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. 500ms, 90s, 10m, 1h)"))?;
    let millis = match unit {
        "ms" => Some(value),
        "s" => value.checked_mul(1_000),
        "m" => value.checked_mul(60_000),
        "h" => value.checked_mul(3_600_000),
        _ => return Err(format!("`{text}` needs a unit: ms, s, m or h (e.g. 90s)")),
    }
    .ok_or_else(|| format!("`{text}` is too long"))?;
    Ok(Duration::from_millis(millis))
}

pub(super) fn number<T: std::str::FromStr>(
    flag: &str,
    text: &str,
    valid: &str,
    ok: impl Fn(&T) -> bool,
) -> Result<T, UsageError> {
    text.trim()
        .parse::<T>()
        .ok()
        .filter(|v| ok(v))
        .ok_or_else(|| UsageError::new(format!("{flag} `{text}`: expected {valid}")))
}

pub(super) fn count(flag: &str, text: &str, max: u32) -> Result<u32, UsageError> {
    number::<u32>(
        flag,
        text,
        &format!("a whole number from 1 to {max}"),
        |v| (1..=max).contains(v),
    )
}

pub(super) fn amount(flag: &str, text: &str) -> Result<U256, UsageError> {
    parse_u256(text.trim())
        .ok()
        .filter(|v| !v.is_zero())
        .ok_or_else(|| {
            UsageError::new(format!(
                "{flag} `{text}`: expected a positive whole number of base units"
            ))
        })
}

pub(super) fn timeout(flag: &str, text: &str) -> Result<Duration, UsageError> {
    parse_duration(text)
        .ok()
        .filter(|d| *d >= Duration::from_millis(10) && *d <= Duration::from_secs(600))
        .ok_or_else(|| {
            UsageError::new(format!(
                "{flag} `{text}`: expected a duration from 10ms to 600s, e.g. 10s"
            ))
        })
}

pub(super) fn parse_token(text: &str) -> Result<Address, UsageError> {
    let digits = text.strip_prefix("0x").unwrap_or("");
    if digits.len() == 40 && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        text.parse::<Address>()
            .map_err(|e| UsageError::new(format!("--token `{text}`: {e}")))
    } else {
        Err(UsageError::new(format!(
            "--token `{text}`: expected 0x followed by 40 hex digits"
        )))
    }
}

pub(super) fn parse_run_duration(text: &str) -> Result<Duration, UsageError> {
    match parse_duration(text) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(UsageError::new("--duration: must be above 0")),
        Err(e) => Err(UsageError::new(format!("--duration: {e}"))),
    }
}

/// `--symbol`, by default `1USD` and a Unix time in seconds: of `--start-at` when given, so that
/// the shards of one run, started at different moments, name one token (a time of day alone
/// named the same token in yesterday's run at that time, whose issue the chain refuses).
pub(super) fn parse_symbol(
    given: Option<&str>,
    start_at: Option<std::time::SystemTime>,
) -> Result<String, UsageError> {
    let unix_s = |time: std::time::SystemTime| {
        time.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    };
    let symbol = given.map_or_else(
        || {
            format!(
                "1USD{}",
                unix_s(start_at.unwrap_or_else(std::time::SystemTime::now))
            )
        },
        str::to_owned,
    );
    if symbol.is_empty() || symbol.len() > 20 || !symbol.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(UsageError::new(format!(
            "--symbol `{symbol}`: expected 1 to 20 letters or digits"
        )));
    }
    Ok(symbol)
}

/// The largest total rate accepted, per direction.
pub const MAX_TOTAL_RATE: u32 = 1_000_000;

/// `--metrics-addr`: an IP and a port (a host name would need resolving; a scraper needs a
/// fixed address anyway).
pub(super) fn metrics_addr(text: Option<&str>) -> Result<Option<std::net::SocketAddr>, UsageError> {
    text.map(|text| {
        text.parse().map_err(|_| {
            UsageError::new(format!(
                "--metrics-addr `{text}`: expected IP:PORT, e.g. 127.0.0.1:9464 or 0.0.0.0:9464"
            ))
        })
    })
    .transpose()
}

pub(super) fn metrics_linger(text: &str) -> Result<Duration, UsageError> {
    parse_duration(text).map_err(|e| UsageError::new(format!("--metrics-linger `{text}`: {e}")))
}

pub(super) fn max_outage(text: &str) -> Result<Duration, UsageError> {
    parse_duration(text)
        .ok()
        .filter(|d| *d >= Duration::from_secs(1))
        .ok_or_else(|| {
            UsageError::new(format!(
                "--max-outage `{text}`: expected a duration of 1s or more, e.g. 5m"
            ))
        })
}

/// `--start-at`: Unix seconds, or an RFC 3339 time in UTC.
pub(super) fn start_at(text: &str) -> Result<std::time::SystemTime, UsageError> {
    let parsed = if text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse()
            .ok()
            .map(|secs| std::time::UNIX_EPOCH + Duration::from_secs(secs))
    } else {
        humantime::parse_rfc3339(text).ok()
    };
    parsed.ok_or_else(|| {
        UsageError::new(format!(
            "--start-at `{text}`: expected an RFC 3339 time in UTC (2026-12-01T20:00:00Z) or Unix seconds"
        ))
    })
}
