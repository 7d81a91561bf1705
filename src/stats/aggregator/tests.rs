//! The aggregator's sums, seconds and intervals, from samples with chosen times.

use super::*;

fn sample(node: NodeId, op: Op, ok: bool, at: Instant, latency_ms: u64) -> Sample {
    Sample {
        node,
        op,
        outcome: if ok {
            Outcome::Ok
        } else {
            Outcome::Failed {
                class: ErrorClass::Rejected,
                code: Some("business_invalid_nonce".into()),
            }
        },
        intended: at,
        sent: at + Duration::from_millis(latency_ms / 2),
        done: at + Duration::from_millis(latency_ms),
    }
}

#[tokio::test]
async fn aggregates_per_node_op_and_second() {
    let started = Instant::now();
    let stop = CancellationToken::new();
    let (handle, _rx, task) =
        spawn_aggregator(started, Duration::from_millis(50), stop.clone(), None, None);
    for i in 0..100 {
        handle.record(sample(1, Op::Payment, i % 10 != 0, started, 10));
    }
    handle.record(sample(2, Op::Receipt, true, started, 4));
    handle.record(sample(2, Op::Confirm, true, started, 300));
    stop.cancel();
    let (snapshot, _) = task.await.unwrap();
    let payment = &snapshot.ops[&Op::Payment];
    assert_eq!((payment.count, payment.ok), (100, 90));
    assert_eq!(payment.errors[&ErrorClass::Rejected], 10);
    assert_eq!(snapshot.error_codes["business_invalid_nonce"], 10);
    assert!(
        (9_990..=10_010).contains(&payment.latency.p50),
        "{:?}",
        payment.latency
    );
    assert!(
        (4_990..=5_010).contains(&payment.service.p50),
        "{:?}",
        payment.service
    );
    let node2 = snapshot.node(2).unwrap();
    assert_eq!(node2.confirmed, 1);
    assert_eq!(node2.get.count, 1, "confirmations are not requests");
    assert_eq!(snapshot.node(1).unwrap().post.count, 100);
    assert_eq!(snapshot.dropped_samples, 0);
}

#[test]
fn seconds_roll_into_history() {
    let mut node = NodeStats::default();
    node.current.ok.post = 5;
    roll_to(&mut node, 3);
    assert_eq!(node.history.len(), 3);
    assert_eq!(node.history[0].ok.post, 5);
    assert_eq!(node.current.second, 3);
}
