//! Arbitrary input never panics in the parsers written here: the amount and signature decoding
//! inside the responses and signed requests (the `decimal` and `U256Input` visitors, hex
//! signatures), the command line (parse and validation), and the small parsers (node
//! addresses, durations, thresholds, U256, keys). Responses made only of serde's derived
//! fields are left to serde. The HTTP framing (answer heads, chunked bodies) is fuzzed next to
//! its private functions, in `src/client/plain/tests.rs`.

use clap::Parser;
use proptest::prelude::*;
use stress_tui::cli::Cli;
use stress_tui::config::parse_threshold;
use stress_tui::config::{RunConfig, parse_duration};
use stress_tui::model::parse_node;
use stress_tui::protocol::wire::{
    MintInfo, Receipt, SignedRequest, TokenAccountResponse, Transaction,
};
use stress_tui::protocol::{IssuePayload, PaymentPayload, PrivateKey, parse_u256};

fn decode_all(bytes: &[u8]) {
    let _ = serde_json::from_slice::<TokenAccountResponse>(bytes);
    let _ = serde_json::from_slice::<MintInfo>(bytes);
    let _ = serde_json::from_slice::<Receipt>(bytes);
    let _ = serde_json::from_slice::<Transaction>(bytes);
    let _ = serde_json::from_slice::<SignedRequest<PaymentPayload>>(bytes);
    let _ = serde_json::from_slice::<SignedRequest<IssuePayload>>(bytes);
}

/// JSON-ish input: objects with the fields the decoders look for and values of every kind.
fn jsonish() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("balance"),
        Just("nonce"),
        Just("hash"),
        Just("token"),
        Just("value"),
        Just("signature"),
        Just("r"),
        Just("s"),
        Just("v"),
        Just("chain_id"),
        Just("supply"),
        Just("success"),
        Just("transaction_type"),
        Just("data"),
        Just("recipient"),
        Just("fee_used"),
        Just("from"),
    ];
    let value = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| format!("\"{n}\"")),
        "\"0x[0-9a-fA-F]{0,70}\"",
        "\"[ -~]{0,20}\"",
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("{}".to_owned()),
        Just("[]".to_owned()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
    ];
    prop::collection::vec((key, value), 0..8).prop_map(|fields| {
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", body.join(","))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decoders_take_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_all(&bytes);
    }

    #[test]
    fn decoders_take_arbitrary_json(text in jsonish()) {
        decode_all(text.as_bytes());
    }

    #[test]
    fn small_parsers_take_anything(text in "\\PC{0,40}") {
        let _ = parse_node(&text);
        let _ = parse_duration(&text);
        let _ = parse_threshold(&text);
        let _ = parse_u256(&text);
        let _ = PrivateKey::from_hex(&text);
        let _ = text.parse::<stress_tui::protocol::PayloadProfile>();
    }

    #[test]
    fn the_command_line_takes_anything(args in prop::collection::vec(prop_oneof![
        Just("--nodes".to_owned()), Just("--post-rate".to_owned()), Just("--get-rate".to_owned()),
        Just("--node-rate".to_owned()), Just("--devnet".to_owned()), Just("--duration".to_owned()),
        Just("--threshold".to_owned()), Just("--mint-wallets".to_owned()), Just("--symbol".to_owned()),
        Just("--token".to_owned()), Just("--allowance".to_owned()), Just("--no-tui".to_owned()),
        Just("devnet".to_owned()), Just("--knob".to_owned()),
        "[ -~]{0,16}",
    ], 0..10)) {
        let mut argv = vec!["stress-tui".to_owned()];
        argv.extend(args);
        if let Ok(cli) = Cli::try_parse_from(&argv) {
            // Validation may refuse (no key, bad values) but never panics.
            let _ = RunConfig::from_args(&cli.run);
            if let Some(stress_tui::cli::Command::Devnet(devnet)) = &cli.command {
                let _ = stress_tui::devnet::cli::config_from_args(devnet);
            }
        }
    }
}
