//! Bad input: each invalid invocation exits 2 with one line naming the flag (or value) and what
//! is valid, and sends no traffic (the devnet it points at sees no request).

use std::process::{Command, Stdio};

use stress_tui::devnet::{Devnet, DevnetConfig, OPERATOR_KEY_HEX};

struct Case {
    args: Vec<String>,
    env_key: Option<&'static str>,
    /// Text the one error line must contain.
    names: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_invocations_exit_2_with_one_line_and_no_traffic() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(1)).await.unwrap();
    let node = devnet.node_addrs()[0].to_string();
    let dir = std::env::temp_dir().join(format!("stress-tui-it-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("operator.key");
    std::fs::write(&key, OPERATOR_KEY_HEX).unwrap();
    let garbage = dir.join("garbage.key");
    std::fs::write(&garbage, "not a key").unwrap();
    let (key, garbage) = (
        key.to_str().unwrap().to_owned(),
        garbage.to_str().unwrap().to_owned(),
    );

    let base = |extra: &[&str]| -> Vec<String> {
        let mut args = vec![
            "--nodes".to_owned(),
            node.clone(),
            "--no-tui".to_owned(),
            "--operator-key-file".to_owned(),
            key.clone(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };
    let raw = |args: &[&str]| args.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let case = |args: Vec<String>, names: &str| Case {
        args,
        env_key: None,
        names: names.to_owned(),
    };
    let same_node = format!("{node},{node}");
    let long_memo = "d".repeat(300);
    // A port something else listens on.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    let cases = vec![
        case(
            raw(&[
                "--nodes",
                "127.0.0.1",
                "--no-tui",
                "--operator-key-file",
                &key,
            ]),
            "missing port",
        ),
        case(
            raw(&[
                "--nodes",
                "127.0.0.1:0",
                "--no-tui",
                "--operator-key-file",
                &key,
            ]),
            "port `0`",
        ),
        case(
            raw(&[
                "--nodes",
                "127.0.0.1:70000",
                "--no-tui",
                "--operator-key-file",
                &key,
            ]),
            "port `70000`",
        ),
        case(
            raw(&[
                "--nodes",
                "ftp://127.0.0.1:1",
                "--no-tui",
                "--operator-key-file",
                &key,
            ]),
            "scheme `ftp`",
        ),
        case(
            raw(&[
                "--nodes",
                "bad host:1",
                "--no-tui",
                "--operator-key-file",
                &key,
            ]),
            "--nodes",
        ),
        case(
            raw(&[
                "--nodes",
                &same_node,
                "--no-tui",
                "--operator-key-file",
                &key,
            ]),
            "listed twice",
        ),
        case(
            base(&["--post-rate", "0"]),
            "--post-rate 0 runs the read-only workload, which needs --duration",
        ),
        case(base(&["--post-rate", "-5"]), "--post-rate `-5`"),
        case(base(&["--post-rate", "fast"]), "--post-rate `fast`"),
        case(base(&["--post-rate", "99999999"]), "--post-rate `99999999`"),
        case(base(&["--get-rate", "0"]), "--get-rate `0`"),
        case(base(&["--get-rate", "1.5"]), "--get-rate `1.5`"),
        case(
            raw(&[
                "--nodes",
                &node,
                "--no-tui",
                "--operator-key-file",
                "/nonexistent/operator.key",
            ]),
            "--operator-key-file",
        ),
        case(
            raw(&[
                "--nodes",
                &node,
                "--no-tui",
                "--operator-key-file",
                &garbage,
            ]),
            "garbage.key",
        ),
        Case {
            args: raw(&["--nodes", &node, "--no-tui"]),
            env_key: Some("zz"),
            names: "OPERATOR_PRIVATE_KEY".to_owned(),
        },
        case(raw(&["--nodes", &node, "--no-tui"]), "--operator-key-file"),
        case(base(&["--profile", "legacy-2024"]), "--profile"),
        case(
            base(&["--threshold", "payment.p99"]),
            "--threshold `payment.p99`",
        ),
        case(base(&["--threshold", "pay.p99<1s"]), "unknown scope `pay`"),
        // A node a threshold names must be in the run: refused before the run, not failed after.
        case(
            base(&["--threshold", "127.0.0.1:9/post.p99<100ms"]),
            "127.0.0.1:9 is not in --nodes",
        ),
        case(
            base(&["--threshold", "node2/post.p99<100ms"]),
            "the run has 1 node(s), not 2",
        ),
        case(
            raw(&[
                "--devnet",
                "2",
                "--no-tui",
                "--threshold",
                "127.0.0.1:18555/post.p99<100ms",
            ]),
            "name a node by position, e.g. node1/post.p99<100ms",
        ),
        case(
            raw(&["--devnet", "2", "--nodes", &node, "--no-tui"]),
            "--nodes and --devnet",
        ),
        case(raw(&["--devnet", "0", "--no-tui"]), "--devnet `0`"),
        case(
            base(&["--out", "/proc/stress-tui/out"]),
            "--out /proc/stress-tui/out",
        ),
        case(base(&["--duration", "5"]), "--duration"),
        // A value that starts with a hyphen is the flag's value, refused by its own check.
        case(base(&["--duration", "-3s"]), "--duration: `-3s`"),
        case(base(&["--mint-wallets", "-1"]), "--mint-wallets"),
        // Enumerated values list the valid ones.
        case(
            base(&["--confirm", "blocks"]),
            "[possible values: receipts, checkpoints]",
        ),
        case(base(&["--duration", "0s"]), "--duration"),
        case(
            base(&["--stage", "5s:100", "--duration", "10s"]),
            "--stage and --duration conflict",
        ),
        case(base(&["--stage", "1500ms:100"]), "--stage `1500ms:100`"),
        case(
            base(&["--at", "3s:knobs=1:{\"latency_ms\":5}"]),
            "knobs change the run's own devnet's nodes",
        ),
        case(base(&["--at", "3s:jump"]), "--at `3s:jump`"),
        case(base(&["--stage", "10s:ramp-to:x"]), "`x` is not a rate"),
        case(
            base(&["--post-rate", "0", "--stage", "5s:10/100"]),
            "give its stages as 0/GET",
        ),
        case(base(&["--mint-wallets", "21"]), "--mint-wallets `21`"),
        case(base(&["--decimals", "19"]), "--decimals `19`"),
        case(base(&["--symbol", "bad symbol!"]), "--symbol"),
        case(base(&["--node-rate", "127.0.0.1:1=10"]), "not in --nodes"),
        case(base(&["--request-timeout", "0s"]), "--request-timeout `0s`"),
        case(base(&["--token", "0x123"]), "--token `0x123`"),
        case(base(&["--allowance", "1"]), "--allowance 1"),
        case(base(&["--nodse", "x"]), "--nodse"),
        case(base(&["--write-surface", "v3"]), "--write-surface"),
        case(
            base(&["--metrics-addr", "localhost"]),
            "--metrics-addr `localhost`: expected IP:PORT",
        ),
        case(
            base(&["--metrics-addr", &taken]),
            &format!("--metrics-addr `{taken}`: cannot listen"),
        ),
        case(
            base(&["--metrics-addr", "127.0.0.1:0", "--metrics-linger", "soon"]),
            "--metrics-linger `soon`",
        ),
        // A flag that needs another names it.
        case(
            base(&["--metrics-linger", "3s"]),
            "not provided: --metrics-addr",
        ),
        case(
            base(&["--memo-type", "a b"]),
            "--memo-type/--memo-format/--memo-data: memo type has ' '",
        ),
        case(
            base(&["--memo-data", &long_memo]),
            "memo data is 300 bytes, at most 256",
        ),
        case(
            base(&["--post-rate", "0", "--duration", "5s", "--memo-data", "x"]),
            "--post-rate 0 sends none",
        ),
        // The dashboard needs a terminal; the test's stdout is a pipe.
        case(
            raw(&["--nodes", &node, "--operator-key-file", &key]),
            "--no-tui",
        ),
    ];
    assert!(cases.len() >= 25);
    for case in cases {
        let mut command = Command::new(env!("CARGO_BIN_EXE_stress-tui"));
        command
            .args(&case.args)
            .env_remove("OPERATOR_PRIVATE_KEY")
            .env_remove("MASTER_PRIVATE_KEY");
        if let Some(value) = case.env_key {
            command.env("OPERATOR_PRIVATE_KEY", value);
        }
        let output = command.stdin(Stdio::null()).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{:?}: {stderr}", case.args);
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{:?}: one line, got {stderr}",
            case.args
        );
        assert!(
            stderr.contains(&case.names),
            "{:?}: `{}` not named in {stderr}",
            case.args,
            case.names
        );
        assert!(!stderr.contains(&OPERATOR_KEY_HEX[2..]), "no key in errors");
        assert!(
            output.stdout.is_empty(),
            "{:?}: {}",
            case.args,
            String::from_utf8_lossy(&output.stdout)
        );
    }
    assert_eq!(devnet.requests(), 0, "no invalid invocation sent a request");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mainnet_is_refused_without_allow_mainnet() {
    let config = DevnetConfig {
        chain_id: stress_tui::protocol::MAINNET_CHAIN_ID,
        ..DevnetConfig::ephemeral(1)
    };
    let devnet = Devnet::start(config).await.unwrap();
    let key =
        std::env::temp_dir().join(format!("stress-tui-it-mainnet-{}.key", std::process::id()));
    std::fs::write(&key, OPERATOR_KEY_HEX).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_stress-tui"))
        .args([
            "--nodes",
            &devnet.urls()[0],
            "--no-tui",
            "--operator-key-file",
            key.to_str().unwrap(),
        ])
        .args([
            "--out",
            std::env::temp_dir()
                .join(format!("stress-tui-it-mainnet-{}", std::process::id()))
                .to_str()
                .unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--allow-mainnet") && stderr.contains("21210"),
        "{stderr}"
    );
    assert_eq!(devnet.stats().admitted, 0, "no transaction was sent");
    assert!(devnet.requests() <= 1, "only the chain id was read");
}

/// No node answers: the run fails before any traffic (exit 1: the command line was fine) and
/// leaves no empty results folder behind.
#[test]
fn unreachable_nodes_fail_before_traffic_and_leave_no_results_folder() {
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out =
        std::env::temp_dir().join(format!("stress-tui-it-unreachable-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = Command::new(env!("CARGO_BIN_EXE_stress-tui"))
        .args(["--nodes", &format!("127.0.0.1:{port}"), "--no-tui"])
        .args(["--out", out.to_str().unwrap()])
        .env("OPERATOR_PRIVATE_KEY", OPERATOR_KEY_HEX)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no node answered the chain id"), "{stderr}");
    assert!(!out.exists(), "{} was left behind", out.display());
}

/// A node of an older API: it answers the chain id and the checkpoint head but not
/// `/v1/checkpoints/by_number`, nor anything else.
async fn node_without_checkpoint_reads() -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    use axum::routing::get;
    let posts = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = std::sync::Arc::clone(&posts);
    let app = axum::Router::new()
        .route(
            "/v1/chains/chain_id",
            get(|| async { r#"{"chain_id":1212101}"# }),
        )
        .route(
            "/v1/checkpoints/number",
            get(|| async { r#"{"number":7}"# }),
        )
        .fallback(move |method: axum::http::Method| {
            if method == axum::http::Method::POST {
                seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            async {
                (
                    axum::http::StatusCode::NOT_FOUND,
                    r#"{"error_code":"resource_not_found","message":"no such route"}"#,
                )
            }
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, posts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirming_by_checkpoint_is_refused_where_checkpoints_are_not_served() {
    let (url, posts) = node_without_checkpoint_reads().await;
    let key = std::env::temp_dir().join(format!("stress-tui-it-nocp-{}.key", std::process::id()));
    std::fs::write(&key, OPERATOR_KEY_HEX).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stress-tui"))
        .args(["--nodes", &url, "--no-tui", "--confirm", "checkpoints"])
        .args(["--operator-key-file", key.to_str().unwrap()])
        .args([
            "--out",
            std::env::temp_dir()
                .join(format!("stress-tui-it-nocp-{}", std::process::id()))
                .to_str()
                .unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Without the check the run would go on against the node: bounded here, not by the run.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the run was not refused within 30 s");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--confirm checkpoints")
            && stderr.contains("/v1/checkpoints/by_number")
            && stderr.contains("--confirm receipts"),
        "{stderr}"
    );
    assert_eq!(posts.load(std::sync::atomic::Ordering::Relaxed), 0);
}

/// Every file a run writes, and what it prints, carries no key unless `--export-keys`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_appear_nowhere_unless_exported() {
    let devnet = Devnet::start(DevnetConfig::ephemeral(2)).await.unwrap();
    let dir = std::env::temp_dir().join(format!("stress-tui-it-secrets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("operator.key");
    std::fs::write(&key, OPERATOR_KEY_HEX).unwrap();
    let seed = stress_tui::protocol::wallet::WalletSeed::default();
    let wallet_key = seed
        .key(stress_tui::protocol::wallet::WalletTier::Transfer, 0)
        .unwrap()
        .expose_hex();
    for export in [false, true] {
        let out = dir.join(format!("out-{export}"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_stress-tui"));
        command
            .args([
                "--nodes",
                &devnet.urls().join(","),
                "--no-tui",
                "--operator-key-file",
                key.to_str().unwrap(),
            ])
            .args([
                "--mint-wallets",
                "1",
                "--transfers-per-mint",
                "3",
                "--post-rate",
                "200",
                "--get-rate",
                "400",
            ])
            .args(["--out", out.to_str().unwrap()]);
        if export {
            command.arg("--export-keys");
        }
        let output = command.output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mut everything = String::from_utf8_lossy(&output.stdout).into_owned();
        everything.push_str(&String::from_utf8_lossy(&output.stderr));
        for entry in std::fs::read_dir(&out).unwrap() {
            everything.push_str(&String::from_utf8_lossy(
                &std::fs::read(entry.unwrap().path()).unwrap(),
            ));
        }
        assert!(
            !everything.contains(&OPERATOR_KEY_HEX[2..]),
            "the operator key leaked (export {export})"
        );
        assert_eq!(
            everything.contains(&wallet_key[2..]),
            export,
            "wallet keys only with --export-keys"
        );
        // Exported keys are their owner's alone, and the summary says where they are.
        #[cfg(unix)]
        if export {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(out.join("accounts_detail.csv"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "accounts_detail.csv mode {mode:o}");
        }
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).contains("holds the wallets' private keys"),
            export
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
