//! A finished run's measurements as data that adds exactly: per node and operation the counts
//! and the whole latency and service-time HDR histograms (not their percentiles, which do not
//! add), per node the send-time error histograms, and the error codes. A shard writes them;
//! `stress-tui merge` adds the shards' and rebuilds the snapshot every report is computed from,
//! as one aggregator would have built it from all the samples.
//!
//! Histograms are stored as the `HdrHistogram` V2 format, deflated, in base64: the format every
//! `HdrHistogram` library reads (the interval log uses it too).

use std::collections::BTreeMap;

use anyhow::Context;
use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

use super::histogram::LatencyHistogram;
use crate::client::ErrorClass;
use crate::model::{Op, PerDirection};

/// A histogram in the V2 deflate format, base64.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EncodedHistogram(String);

impl EncodedHistogram {
    /// Encodes `histogram` (an empty one as the empty string).
    #[must_use]
    pub fn encode(histogram: &LatencyHistogram) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        let mut bytes = Vec::new();
        // Serialising into memory cannot fail but for a histogram the format cannot hold.
        if V2DeflateSerializer::new()
            .serialize(histogram.inner(), &mut bytes)
            .is_err()
        {
            return Self::default();
        }
        Self(base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    /// The histogram again, with the bounds and precision every run uses.
    pub fn decode(&self) -> anyhow::Result<LatencyHistogram> {
        let mut histogram = LatencyHistogram::default();
        if self.0.is_empty() {
            return Ok(histogram);
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.0)
            .context("a histogram is not base64")?;
        let decoded: Histogram<u32> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| anyhow::anyhow!("a histogram does not decode: {e:?}"))?;
        histogram.add_inner(&decoded)?;
        Ok(histogram)
    }
}

/// One operation's counts and histograms.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OpMeasurements {
    pub count: u64,
    pub ok: u64,
    pub errors: BTreeMap<ErrorClass, u64>,
    /// From the intended send time.
    pub latency: EncodedHistogram,
    /// From the actual send.
    pub service: EncodedHistogram,
}

/// One node's measurements.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeMeasurements {
    pub ops: BTreeMap<Op, OpMeasurements>,
    pub send_error: PerDirection<EncodedHistogram>,
}

/// A run's measurements, nodes by their label (ids are a process's own).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Measurements {
    pub nodes: BTreeMap<String, NodeMeasurements>,
    pub error_codes: BTreeMap<String, u64>,
    pub dropped_samples: u64,
}
