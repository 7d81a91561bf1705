//! Fault knobs of devnet nodes: capacity (429), down and back up, hang, error ratio with no
//! side effect, read lag, and the admin API that other processes use to turn them.

use std::time::Duration;

use stress_tui::client::{CallError, ErrorClass, NodeClient};
use stress_tui::devnet::{Devnet, DevnetConfig, KnobsPatch};
use stress_tui::protocol::U256;

use crate::support::*;

#[tokio::test]
async fn capacity_answers_429_above_the_rate() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    devnet
        .set_knobs(
            0,
            &KnobsPatch {
                get_capacity: Some(50),
                ..KnobsPatch::default()
            },
        )
        .unwrap();
    let (limited, free) = (client(&devnet.urls()[0]), client(&devnet.urls()[1]));
    let (mut ok, mut limited_count) = (0, 0);
    for _ in 0..300 {
        match limited.chain_id().await {
            Ok(_) => ok += 1,
            refused => {
                expect_rate_limited(refused, Duration::from_secs(1));
                limited_count += 1;
            }
        }
    }
    // 300 back-to-back requests take well under a second: at 50/s only a few fit.
    assert!((1..100).contains(&ok), "ok {ok}, limited {limited_count}");
    assert_eq!(ok + limited_count, 300);
    for _ in 0..100 {
        free.chain_id().await.expect("the other node has no limit");
    }
}

#[tokio::test]
async fn down_refuses_connections_and_comes_back_on_the_same_port() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    let node = client(&devnet.urls()[0]);
    node.chain_id().await.unwrap();
    set_down(&devnet, 0, true);
    // The listener closes asynchronously; within a second every attempt is refused.
    let mut refused = false;
    for _ in 0..100 {
        match node.chain_id().await {
            Err(e) if e.class() == ErrorClass::Connect => {
                refused = true;
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    assert!(refused, "node 0 still answers while down");
    let fresh = client(&devnet.urls()[0]);
    assert_eq!(
        fresh.chain_id().await.unwrap_err().class(),
        ErrorClass::Connect
    );
    client(&devnet.urls()[1])
        .chain_id()
        .await
        .expect("node 1 is unaffected");

    set_down(&devnet, 0, false);
    let mut back = false;
    for _ in 0..200 {
        if node.chain_id().await.is_ok() {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(back, "node 0 did not come back on {}", devnet.urls()[0]);
}

#[tokio::test]
async fn hang_makes_a_client_time_out() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    devnet
        .set_knobs(
            0,
            &KnobsPatch {
                hang: Some(true),
                ..KnobsPatch::default()
            },
        )
        .unwrap();
    let hung = NodeClient::new(&devnet.urls()[0], Duration::from_secs(1));
    let started = std::time::Instant::now();
    assert_eq!(
        hung.chain_id().await.unwrap_err(),
        CallError::Timeout(Duration::from_secs(1))
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
    NodeClient::new(&devnet.urls()[1], Duration::from_secs(1))
        .chain_id()
        .await
        .expect("node 1 answers");
}

#[tokio::test]
async fn error_ratio_fails_about_half_with_nothing_applied() {
    let f = funded(DevnetConfig::ephemeral(1)).await;
    f.devnet
        .set_knobs(
            0,
            &KnobsPatch {
                error_ratio: Some(0.5),
                ..KnobsPatch::default()
            },
        )
        .unwrap();
    let mut failed = 0;
    for _ in 0..400 {
        match f.node.checkpoint_number().await {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.error_code(), Some("system_internal_error"));
                assert_eq!(e.class(), ErrorClass::ServerError);
                failed += 1;
            }
        }
    }
    // Binomial(400, 0.5): 200 ± 10 standard deviations is [100, 300].
    assert!((100..=300).contains(&failed), "{failed} of 400 failed");

    // POSTs: resend one payment until admitted; the injected failures applied nothing.
    let payee = signer(13).address();
    let payment = pay(&f.holder, 0, f.token, payee, 9);
    let admitted_before = f.devnet.stats().admitted;
    let mut attempts = 0;
    let hash = loop {
        attempts += 1;
        assert!(attempts < 100, "never admitted");
        match f.node.submit(&payment, PROFILE).await {
            Ok(hash) => break hash,
            Err(e) => assert_eq!(e.error_code(), Some("system_internal_error")),
        }
    };
    assert_eq!(f.devnet.stats().admitted, admitted_before + 1);
    f.devnet
        .set_knobs(
            0,
            &KnobsPatch {
                error_ratio: Some(0.0),
                ..KnobsPatch::default()
            },
        )
        .unwrap();
    wait_receipt(&f.node, hash).await;
    assert_eq!(
        f.node.token_account(payee, f.token).await.unwrap().balance,
        U256::from(9)
    );
}

#[tokio::test]
async fn read_lag_serves_older_state() {
    let config = DevnetConfig::ephemeral(2);
    let f = funded(config).await;
    f.devnet
        .set_knobs(
            1,
            &KnobsPatch {
                read_lag_ms: Some(800),
                ..KnobsPatch::default()
            },
        )
        .unwrap();
    let lagging = client(&f.devnet.urls()[1]);
    let payee = signer(13).address();
    // First read creates the lagging replica from the current state.
    assert_eq!(
        lagging.token_account(payee, f.token).await.unwrap().balance,
        U256::ZERO
    );
    let hash = f
        .node
        .submit(&pay(&f.holder, 0, f.token, payee, 5), PROFILE)
        .await
        .unwrap();
    wait_receipt(&f.node, hash).await;
    assert_eq!(
        f.node.token_account(payee, f.token).await.unwrap().balance,
        U256::from(5)
    );
    assert_eq!(
        lagging.token_account(payee, f.token).await.unwrap().balance,
        U256::ZERO,
        "not yet replicated"
    );
    assert!(lagging.receipt(hash).await.unwrap_err().is_not_found());
    wait_receipt(&lagging, hash).await;
    assert_eq!(
        lagging.token_account(payee, f.token).await.unwrap().balance,
        U256::from(5)
    );
}

#[tokio::test]
async fn admin_api_turns_knobs_over_http() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    let admin = client(&devnet.admin_url());
    let body = br#"{"latency_ms": 30, "get_capacity": 7}"#.to_vec();
    let answer = admin
        .call(axum::http::Method::POST, "/nodes/1", Some(body))
        .await
        .unwrap();
    let view: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(view["knobs"]["latency_ms"], 30);
    assert_eq!(devnet.knobs(1).unwrap().get_capacity, 7);
    let bad = admin
        .call(
            axum::http::Method::POST,
            "/nodes/1",
            Some(br#"{"error_ratio": 2}"#.to_vec()),
        )
        .await;
    assert!(
        matches!(bad, Err(CallError::Status { status: 400, .. })),
        "{bad:?}"
    );
    let missing = admin
        .call(axum::http::Method::POST, "/nodes/9", Some(b"{}".to_vec()))
        .await;
    assert!(
        matches!(missing, Err(CallError::Status { status: 404, .. })),
        "{missing:?}"
    );
    let list: serde_json::Value = serde_json::from_slice(
        &admin
            .call(axum::http::Method::GET, "/nodes", None)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let started = std::time::Instant::now();
    client(&devnet.urls()[1]).chain_id().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(30),
        "latency applied"
    );
}

#[tokio::test]
async fn admin_api_takes_json_without_a_content_type() {
    // What `curl -XPOST ADMIN/nodes/0 -d '{"down":true}'` sends: a form content type.
    use std::io::{Read, Write};
    let devnet = Devnet::start(DevnetConfig::ephemeral(1)).await.unwrap();
    let admin = devnet.admin_url().trim_start_matches("http://").to_owned();
    let body = r#"{"latency_ms":12}"#;
    let response = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&admin).unwrap();
        write!(
            stream,
            "POST /nodes/0 HTTP/1.1\r\nHost: {admin}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert_eq!(devnet.knobs(0).unwrap().latency_ms, 12);
}
