//! Tests of the plain HTTP/1.1 path: answer heads, body framing (length, chunked), malformed heads, request targets.

use std::fmt::Write;

use super::*;

fn head(text: &str) -> Head {
    match parse_head(text.as_bytes()) {
        Ok(Some(head)) => head,
        _ => panic!("no complete head in {text:?}"),
    }
}

#[test]
fn heads_say_how_the_body_is_framed_and_whether_to_keep_the_connection() {
    let plain = head("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n");
    assert!(matches!(plain.framing, Framing::Length(12)));
    assert!(plain.keep_alive);
    assert_eq!(plain.status, 200);

    let closing = head("HTTP/1.1 500 Oops\r\ncontent-length: 0\r\nConnection: close\r\n\r\n");
    assert!(!closing.keep_alive);

    let old = head("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n");
    assert!(!old.keep_alive);
    let old_kept = head("HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n");
    assert!(old_kept.keep_alive);

    let chunked = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
    assert!(matches!(chunked.framing, Framing::Chunked));
    let both = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n");
    assert!(matches!(both.framing, Framing::Chunked));
    assert!(!both.keep_alive);

    let unframed = head("HTTP/1.1 200 OK\r\n\r\n");
    assert!(matches!(unframed.framing, Framing::UntilClose));

    let limited = head("HTTP/1.1 429 Too Many\r\nRetry-After: 7\r\ncontent-length: 0\r\n\r\n");
    assert_eq!(limited.retry_after, Some(Duration::from_secs(7)));
    assert_eq!(limited.status, 429);
}

#[test]
fn partial_and_malformed_heads() {
    assert!(matches!(
        parse_head(b"HTTP/1.1 200 OK\r\nContent-Le"),
        Ok(None)
    ));
    assert!(matches!(
        parse_head(b"garbage\r\n\r\n"),
        Err(Failure::Malformed(_))
    ));
    assert!(matches!(
        parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n"),
        Err(Failure::Malformed(_))
    ));
    assert!(matches!(
        parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
        Err(Failure::Malformed(_))
    ));
}

#[test]
fn chunked_bodies_are_decoded_with_extensions_and_trailers() {
    let wire = b"4;x=y\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nTrailer: z\r\n\r\n";
    let (body, used) = dechunk(wire).ok().flatten().unwrap();
    assert_eq!(body, b"{\"a\":1}");
    assert_eq!(used, wire.len());
    for cut in 0..wire.len() {
        assert!(matches!(dechunk(&wire[..cut]), Ok(None)), "cut at {cut}");
    }
    assert!(matches!(dechunk(b"zz\r\n"), Err(Failure::Malformed(_))));
    assert!(matches!(
        dechunk(b"2\r\nabc\r\n"),
        Err(Failure::Malformed(_))
    ));
}

#[test]
fn request_targets_that_would_split_the_request_line_are_refused() {
    assert_eq!(PlainPool::new("node", Duration::ZERO).address, "node:80");
    assert_eq!(PlainPool::new("[::1]", Duration::ZERO).address, "[::1]:80");
    assert_eq!(PlainPool::new("[::1]:8", Duration::ZERO).address, "[::1]:8");
    let pool = PlainPool::new("127.0.0.1:1", Duration::from_secs(1));
    for bad in ["no-slash", "/a b", "/a\r\nx: y", "/tab\there"] {
        assert!(pool.request(None, bad).is_err(), "{bad:?}");
    }
    let get = pool.request(None, "/v1/x?a=1").ok().unwrap();
    assert_eq!(get, b"GET /v1/x?a=1 HTTP/1.1\r\nhost: 127.0.0.1:1\r\n\r\n");
    let post = pool.request(Some(b"{}"), "/v1/p").ok().unwrap();
    assert_eq!(
        post,
        b"POST /v1/p HTTP/1.1\r\nhost: 127.0.0.1:1\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
    );
}

/// A chunked encoding of `body`, cut into chunks of the given sizes (cycled), some with an
/// extension, ended by a trailer.
fn chunked(body: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    for (i, size) in sizes.iter().cycle().enumerate() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at((*size).clamp(1, rest.len()));
        let extension = if i % 2 == 0 { ";name=value" } else { "" };
        out.extend_from_slice(format!("{:x}{extension}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
        rest = tail;
    }
    out.extend_from_slice(b"0\r\nx-trailer: 1\r\n\r\n");
    out
}

/// Bytes that look like an answer head: a status line, headers the parser reads, values of
/// every kind.
fn headish() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let name = prop_oneof![
        Just("Content-Length"),
        Just("Transfer-Encoding"),
        Just("Connection"),
        Just("Retry-After"),
        Just("X-Other"),
    ];
    let value = prop_oneof![
        Just("chunked".to_owned()),
        Just("close".to_owned()),
        Just("keep-alive".to_owned()),
        any::<u64>().prop_map(|n| n.to_string()),
        "[ -~]{0,12}",
    ];
    (
        "HTTP/1\\.[01] [0-9]{3} [A-Za-z ]{0,8}",
        prop::collection::vec((name, value), 0..6),
        prop::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(status, headers, tail)| {
            let mut text = format!("{status}\r\n");
            for (name, value) in headers {
                let _ = write!(text, "{name}: {value}\r\n");
            }
            text.push_str("\r\n");
            let mut bytes = text.into_bytes();
            bytes.extend(tail);
            bytes
        })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

    /// The hand-written framing code never panics, whatever the node sends.
    #[test]
    fn heads_and_chunked_bodies_take_arbitrary_bytes(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
    ) {
        let _ = parse_head(&bytes);
        let _ = dechunk(&bytes);
    }

    #[test]
    fn answer_like_heads_parse_or_are_refused(bytes in headish()) {
        if let Ok(Some(head)) = parse_head(&bytes) {
            proptest::prop_assert!(head.size <= bytes.len());
            let _ = dechunk(&bytes[head.size..]);
        }
    }

    /// Any body in any chunking comes back whole, with the length it took; every cut of it
    /// is incomplete, not an error.
    #[test]
    fn chunked_bodies_come_back_whole(
        body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
        sizes in proptest::collection::vec(1usize..64, 1..8),
        cut in 0usize..1000,
    ) {
        let encoded = chunked(&body, &sizes);
        let decoded = dechunk(&encoded).ok().flatten();
        proptest::prop_assert_eq!(decoded, Some((body.clone(), encoded.len())));
        let cut = cut % encoded.len();
        proptest::prop_assert!(matches!(dechunk(&encoded[..cut]), Ok(None)));
    }
}
