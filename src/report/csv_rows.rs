//! The rows of the results folder's CSV files, as `Serialize` structs written by the `csv`
//! crate: a file's columns are the fields of its row, in order. A row is a tuple of such
//! structs (the `csv` crate writes a tuple of structs as one flat record with one header, where
//! a struct inside a struct has no header), so the columns nodes.csv and operations.csv share
//! are written by the same structs.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use crate::client::ErrorClass;
use crate::stats::{OpSnapshot, Percentiles};

/// A figure written with three decimals (milliseconds and rates), as the files always had.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Fixed3(pub f64);

impl Fixed3 {
    /// Microseconds as milliseconds.
    #[must_use]
    pub fn ms(micros: u64) -> Self {
        Self(micros as f64 / 1000.0)
    }
}

impl Serialize for Fixed3 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{:.3}", self.0))
    }
}

/// Failures by class, one column each, in [`ErrorClass::ALL`]'s order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ErrorColumns {
    pub rejected: u64,
    pub rate_limited: u64,
    pub server_error: u64,
    pub timeout: u64,
    pub connect: u64,
    pub decode: u64,
    pub lost: u64,
}

impl ErrorColumns {
    /// From counts indexed by [`ErrorClass::index`].
    #[must_use]
    pub fn from_counts(counts: &[u64; ErrorClass::ALL.len()]) -> Self {
        let mut columns = Self::default();
        for class in ErrorClass::ALL {
            *columns.slot(class) = counts[class.index()];
        }
        columns
    }

    #[must_use]
    pub fn from_map(counts: &BTreeMap<ErrorClass, u64>) -> Self {
        let mut columns = Self::default();
        for (class, count) in counts {
            *columns.slot(*class) = *count;
        }
        columns
    }

    fn slot(&mut self, class: ErrorClass) -> &mut u64 {
        match class {
            ErrorClass::Rejected => &mut self.rejected,
            ErrorClass::RateLimited => &mut self.rate_limited,
            ErrorClass::ServerError => &mut self.server_error,
            ErrorClass::Timeout => &mut self.timeout,
            ErrorClass::Connect => &mut self.connect,
            ErrorClass::Decode => &mut self.decode,
            ErrorClass::Lost => &mut self.lost,
        }
    }
}

/// An operation's counts, before its errors by class.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct OpCounts {
    pub count: u64,
    pub ok: u64,
    pub errors: u64,
}

/// An operation's rate and latencies, after its errors by class.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct OpTimes {
    pub rate_per_s: Fixed3,
    pub p50_ms: Fixed3,
    pub p90_ms: Fixed3,
    pub p99_ms: Fixed3,
    pub p999_ms: Fixed3,
    pub max_ms: Fixed3,
    pub mean_ms: Fixed3,
    pub service_p50_ms: Fixed3,
    pub service_p99_ms: Fixed3,
}

/// The columns of one operation's figures over a run of `secs` seconds.
#[must_use]
pub fn op_columns(op: &OpSnapshot, secs: f64) -> (OpCounts, ErrorColumns, OpTimes) {
    let p = op.latency;
    (
        OpCounts {
            count: op.count,
            ok: op.ok,
            errors: op.error_count(),
        },
        ErrorColumns::from_map(&op.errors),
        OpTimes {
            rate_per_s: Fixed3(op.ok as f64 / secs),
            p50_ms: Fixed3::ms(p.p50),
            p90_ms: Fixed3::ms(p.p90),
            p99_ms: Fixed3::ms(p.p99),
            p999_ms: Fixed3::ms(p.p999),
            max_ms: Fixed3::ms(p.max),
            mean_ms: Fixed3::ms(p.mean),
            service_p50_ms: Fixed3::ms(op.service.p50),
            service_p99_ms: Fixed3::ms(op.service.p99),
        },
    )
}

/// `nodes.csv`: the node and direction a row is about, then its operation columns.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NodeKey {
    pub node: String,
    pub url: String,
    pub direction: &'static str,
    pub target_rate: u32,
    pub offered: u64,
    pub sent: u64,
    pub missed: u64,
    pub confirmed: u64,
    /// When the node was removed during the run, seconds; empty for the nodes at the end.
    pub removed_at_s: Option<Fixed3>,
}

/// `operations.csv`: the operation a row is about, then its columns.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OperationKey {
    pub operation: &'static str,
}

/// `timeseries.csv`: a node's (or the `total`'s) second, before its errors by class. The
/// targets are the rates set for it (by flags, keys or `--stage`), averaged over the second.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SecondCounts {
    pub second: u64,
    pub node: String,
    pub target_post: Fixed3,
    pub target_get: Fixed3,
    pub post_offered: u64,
    pub post_sent: u64,
    pub post_missed: u64,
    pub post_unfilled: u64,
    pub get_offered: u64,
    pub get_sent: u64,
    pub get_missed: u64,
    pub get_unfilled: u64,
    pub post_ok: u64,
    pub get_ok: u64,
    pub ok: u64,
    pub confirmed: u64,
    pub errors: u64,
}

/// `timeseries.csv`: after the errors by class; the latency columns are empty in a second with
/// no answers.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct SecondTimes {
    pub p50_ms: Option<Fixed3>,
    pub p90_ms: Option<Fixed3>,
    pub p99_ms: Option<Fixed3>,
    pub max_ms: Option<Fixed3>,
    pub in_flight: u64,
    pub lag_ms: Fixed3,
}

impl SecondTimes {
    #[must_use]
    pub fn new(latency: Option<Percentiles>, in_flight: u64, lag_us: u64) -> Self {
        Self {
            p50_ms: latency.map(|p| Fixed3::ms(p.p50)),
            p90_ms: latency.map(|p| Fixed3::ms(p.p90)),
            p99_ms: latency.map(|p| Fixed3::ms(p.p99)),
            max_ms: latency.map(|p| Fixed3::ms(p.max)),
            in_flight,
            lag_ms: Fixed3::ms(lag_us),
        }
    }
}

/// One `timeseries.csv` row.
pub type SecondRow = (SecondCounts, ErrorColumns, SecondTimes);

/// `accounts_detail.csv`: the Go tool's columns plus the address.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AccountRow {
    pub token_address: String,
    pub decimal: u8,
    pub balance: String,
    pub wallet_tier: &'static str,
    pub wallet_index: usize,
    pub source_wallet: String,
    pub address: String,
}

/// `accounts_detail.csv`'s last column, with `--export-keys` only.
#[derive(Clone, Debug, Default, Serialize)]
pub struct KeyColumn {
    pub private_key: String,
}

/// The header line of a row type, for a file that shows its columns before its first row.
pub fn header_of<Row: Serialize + Default>() -> csv::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.serialize(Row::default())?;
    let written = writer
        .into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))?;
    let end = written
        .iter()
        .position(|b| *b == b'\n')
        .map_or(written.len(), |i| i + 1);
    Ok(written[..end].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_come_from_the_structs_in_order() {
        let header = String::from_utf8(header_of::<SecondRow>().unwrap()).unwrap();
        assert_eq!(
            header,
            "second,node,target_post,target_get,post_offered,post_sent,post_missed,post_unfilled,\
             get_offered,get_sent,get_missed,get_unfilled,post_ok,get_ok,ok,confirmed,errors,rejected,\
             rate_limited,server_error,timeout,connect,decode,lost,p50_ms,p90_ms,p99_ms,max_ms,\
             in_flight,lag_ms\n"
        );
        let mut out = csv::Writer::from_writer(Vec::new());
        let mut counts = [0; ErrorClass::ALL.len()];
        counts[ErrorClass::Lost.index()] = 4;
        let row: SecondRow = (
            SecondCounts {
                second: 3,
                node: "a,b".to_owned(),
                ..SecondCounts::default()
            },
            ErrorColumns::from_counts(&counts),
            SecondTimes::new(None, 2, 1_500),
        );
        out.serialize(row).unwrap();
        let text = String::from_utf8(out.into_inner().unwrap()).unwrap();
        assert_eq!(
            text.lines().nth(1),
            Some("3,\"a,b\",0.000,0.000,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,4,,,,,2,1.500"),
            "a label with a comma is quoted; no latency leaves its columns empty"
        );
    }
}
