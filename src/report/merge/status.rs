//! The workload status of a merged run: the shards' counts added, their phases and events on
//! the merged clock, and the one check no shard can make alone: the token's supply against the
//! mints of every shard.

use super::Shard;
use crate::model::Phase;
use crate::protocol::U256;
use crate::workload::{PhaseReport, TransactionCounts, WorkloadStatus};

/// The shards' statuses as one, their times moved onto the merged clock; `checks_supply`: the
/// run issued its token (an existing token's supply includes earlier runs' mints).
pub(super) fn merged_status(shards: &[Shard], checks_supply: bool) -> WorkloadStatus {
    let first = &shards[0].file.status;
    let mut status = WorkloadStatus {
        transactions: TransactionCounts::default(),
        reports: Vec::new(),
        verify: crate::workload::VerifyTally::default(),
        failure: None,
        phase_log: Vec::new(),
        node_surfaces: first.node_surfaces.clone(),
        surface_refusals: 0,
        events: Vec::new(),
        late_by: None,
        phase_done: 0,
        phase_total: 0,
        phase_failed: 0,
        ..first.clone()
    };
    let mut failures = Vec::new();
    for shard in shards {
        let own = &shard.file.status;
        let name = shard.name();
        status.transactions += &own.transactions;
        status.phase_done += own.phase_done;
        status.phase_total += own.phase_total;
        status.phase_failed += own.phase_failed;
        status.surface_refusals += own.surface_refusals;
        status.late_by = status.late_by.max(own.late_by);
        if let Some(failure) = &own.failure {
            failures.push(format!("{name}: {failure}"));
        }
        for report in &own.reports {
            // Shard 0 grants; the others' grant phase counts the grants they waited to see.
            let counts = report.phase != Phase::Grant || shard.index() == 0;
            add_phase(&mut status.reports, report, counts);
        }
        for (phase, at) in &own.phase_log {
            let at = *at + shard.offset;
            match status.phase_log.iter_mut().find(|(p, _)| p == phase) {
                Some((_, earliest)) => *earliest = (*earliest).min(at),
                None => status.phase_log.push((*phase, at)),
            }
        }
        status.events.extend(
            own.events
                .iter()
                .map(|(at, text)| (*at + shard.offset, format!("[{name}] {text}"))),
        );
        let verify = &mut status.verify;
        verify.checked += own.verify.checked;
        verify.matched += own.verify.matched;
        verify.mismatched += own.verify.mismatched;
        verify.unread += own.verify.unread;
    }
    status.phase_log.sort_by_key(|(_, at)| *at);
    status.events.sort_by_key(|(at, _)| *at);
    status.phase = if status.phase_log.iter().any(|(p, _)| *p == Phase::Done) {
        Phase::Done
    } else {
        first.phase
    };
    check_supply(&mut status, shards, checks_supply, &mut failures);
    status.failure = (!failures.is_empty()).then(|| failures.join("; "));
    status
}

/// A phase's report added: CPU summed, the longest duration kept (the shards ran their phases
/// side by side), and with `counts` its transactions summed.
fn add_phase(into: &mut Vec<PhaseReport>, report: &PhaseReport, counts: bool) {
    let Some(merged) = into.iter_mut().find(|r| r.phase == report.phase) else {
        let mut first = report.clone();
        if !counts {
            (first.total, first.confirmed, first.failed) = (0, 0, 0);
        }
        into.push(first);
        return;
    };
    merged.duration = merged.duration.max(report.duration);
    if counts {
        merged.total += report.total;
        merged.confirmed += report.confirmed;
        merged.failed += report.failed;
    }
    merged.cpu = match (merged.cpu, report.cpu) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    };
    merged.signing_cpu += report.signing_cpu;
}

/// Each shard read the token's supply and counted it as a match (it cannot know the other
/// shards' mints): the N reads become one check of the supply against the sum of every shard's
/// mints.
fn check_supply(
    status: &mut WorkloadStatus,
    shards: &[Shard],
    checks_supply: bool,
    failures: &mut Vec<String>,
) {
    let reads: Vec<Option<U256>> = shards
        .iter()
        .map(|s| s.file.status.verify.reported_supply)
        .collect();
    let expected = shards
        .iter()
        .map(|s| s.file.status.verify.expected_supply)
        .fold(U256::ZERO, |a, b| a + b);
    let verify = &mut status.verify;
    verify.expected_supply = expected;
    verify.reported_supply = reads.iter().flatten().max().copied();
    let read = u64::try_from(reads.iter().flatten().count()).unwrap_or(u64::MAX);
    if read == 0 {
        return;
    }
    // The reads counted as matches become one check, in the tally and the phase's report.
    verify.checked = verify.checked.saturating_sub(read - 1);
    verify.matched = verify.matched.saturating_sub(read);
    if let Some(phase) = status.reports.iter_mut().find(|r| r.phase == Phase::Verify) {
        phase.total = phase.total.saturating_sub(read - 1);
        phase.confirmed = phase.confirmed.saturating_sub(read - 1);
    }
    let verify = &mut status.verify;
    if !checks_supply || verify.reported_supply == Some(expected) {
        verify.matched += 1;
        return;
    }
    verify.mismatched += 1;
    failures.push(format!(
        "verify: the token's supply {} differs from the shards' confirmed mints {expected}",
        verify.reported_supply.unwrap_or_default()
    ));
}
