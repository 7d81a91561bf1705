//! A node's identity for the run and its address, with the parser every layer that takes an
//! address uses (the command line, the dashboard's add-node prompt, the devnet).

/// A node's identity for the whole run; never reused after removal.
pub type NodeId = u32;

/// A node to load: its base URL and the label shown for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeTarget {
    /// `http(s)://host:port`, no trailing slash.
    pub url: String,
    /// `host:port`.
    pub label: String,
}

/// Parses `host:port`, `http://host:port` or `https://host[:port]` into a target.
pub fn parse_node(text: &str) -> Result<NodeTarget, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty node address (expected host:port or http://host:port)".to_owned());
    }
    let (scheme, rest) = match text.split_once("://") {
        Some(("http", rest)) => ("http", rest),
        Some(("https", rest)) => ("https", rest),
        Some((other, _)) => return Err(format!("`{text}`: scheme `{other}` is not http or https")),
        None => ("http", text),
    };
    let rest = rest.trim_end_matches('/');
    if rest.contains('/') || rest.contains('?') {
        return Err(format!(
            "`{text}`: give the node's base address only, without a path"
        ));
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => {
            let port: u16 = port.parse().ok().filter(|p| *p != 0).ok_or_else(|| {
                format!("`{text}`: port `{port}` is not a number from 1 to 65535")
            })?;
            (host, port)
        }
        _ if scheme == "https" => (rest, 443),
        _ => {
            return Err(format!(
                "`{text}`: missing port (expected host:port, e.g. 127.0.0.1:18555)"
            ));
        }
    };
    let host_valid = !host.is_empty()
        && (host.starts_with('[') && host.ends_with(']')
            || host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'));
    if !host_valid {
        return Err(format!(
            "`{text}`: `{host}` is not a host name or IP address"
        ));
    }
    Ok(NodeTarget {
        url: format!("{scheme}://{host}:{port}"),
        label: format!("{host}:{port}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_addresses_parse_to_base_urls() {
        let cases = [
            ("127.0.0.1:18555", "http://127.0.0.1:18555"),
            ("http://127.0.0.1:18556/", "http://127.0.0.1:18556"),
            (
                "https://api.testnet.1money.network",
                "https://api.testnet.1money.network:443",
            ),
            ("localhost:80", "http://localhost:80"),
            ("[::1]:18555", "http://[::1]:18555"),
        ];
        for (input, url) in cases {
            assert_eq!(parse_node(input).unwrap().url, url, "{input}");
        }
        for bad in [
            "",
            "127.0.0.1",
            "127.0.0.1:0",
            "127.0.0.1:70000",
            "ftp://x:1",
            "x:1/v1",
            "bad host:1",
            ":80",
        ] {
            assert!(parse_node(bad).is_err(), "{bad} accepted");
        }
    }
}
