//! Plain-HTTP/1.1 exchanges on the generator's hot path: the request task writes its request on a
//! pooled keep-alive `TcpStream` in one write and parses the answer itself (httparse), with no
//! connection task in between.
//!
//! hyper's connection API costs, per request, a hand-off to the connection's own task and back
//! (a dispatch channel, a oneshot, a body channel: three task wake-ups) and a `HeaderMap`; at
//! 20,000 requests a second that was most of the user-space gap to oha (BENCHMARKS.md). What the
//! stress workload sends is narrow (GETs, and POSTs of small JSON bodies, to nodes that answer
//! JSON), so the exchange is small enough to own: a request head, a response head, and a body
//! framed by `Content-Length`, chunked transfer coding, or the connection's end. https nodes
//! still go through hyper and rustls (`super::NodeClient`).

use std::io::{self, Write as _};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::CallError;
use super::idle::IdlePool;

/// Most response headers a node may send (httparse needs a fixed array).
const MAX_HEADERS: usize = 64;
/// A response head larger than this is not a node's.
const MAX_HEAD: usize = 64 * 1024;
/// Nor is a body larger than this (a full token's metadata is a few KiB).
const MAX_BODY: usize = 64 * 1024 * 1024;
/// A connection's read buffer to begin with: a node's answers are a few hundred bytes, and a
/// latency spike can leave hundreds of connections open (hyper started each at 8 KiB).
const INITIAL_BUFFER: usize = 1024;
/// A buffer a large answer grew past this is shrunk back when the answer has been read.
const KEPT_BUFFER: usize = 16 * 1024;

/// An answer read to its end.
pub(super) struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: Bytes,
}

/// One keep-alive connection and the bytes read from it that were not consumed yet.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    /// Whether a connection that sat idle is still usable: the node may have closed it (EOF)
    /// or sent something unasked. tokio answers from its cached readiness, so this costs a
    /// syscall only when the socket was flagged readable.
    fn still_open(&self) -> bool {
        let mut probe = [0u8; 1];
        matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}

/// One node's plain-HTTP keep-alive pool.
pub(super) struct PlainPool {
    /// What the Host header says: the URL's authority.
    authority: String,
    /// `host:port` to connect to (port 80 when the URL has none).
    address: String,
    idle: IdlePool<Connection>,
}

impl PlainPool {
    /// A pool for `authority` (`host[:port]` of an `http://` URL).
    pub(super) fn new(authority: &str, idle_timeout: Duration) -> Self {
        let has_port = authority
            .rsplit_once(':')
            .is_some_and(|(_, port)| !port.is_empty() && !port.contains(']'));
        let address = if has_port {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        Self {
            authority: authority.to_owned(),
            address,
            idle: IdlePool::new(idle_timeout),
        }
    }

    /// An idle connection the node has not closed (see [`Connection::still_open`]); closed
    /// ones are dropped.
    fn take_open(&self) -> Option<Connection> {
        let now = Instant::now();
        std::iter::from_fn(|| self.idle.take(now)).find(Connection::still_open)
    }

    /// Sends one request and reads its answer. A pooled connection that the node closed while
    /// it was idle is noticed before the request is written (see [`Connection::still_open`]).
    /// One that it closed as the request went out is sent again once on a new connection when
    /// the write failed (the node cannot have read it) or, for a GET, when nothing at all was
    /// answered; a POST that may have been read is not.
    pub(super) async fn exchange(
        &self,
        post_body: Option<&[u8]>,
        path_and_query: &str,
    ) -> Result<Answer, CallError> {
        let request = self.request(post_body, path_and_query)?;
        let pooled = self.take_open();
        let reused = pooled.is_some();
        let mut connection = match pooled {
            Some(connection) => connection,
            None => self.connect().await?,
        };
        let (connection, answer) = match exchange_on(&mut connection, &request).await {
            Ok(answer) => (connection, answer),
            Err(Failure::NotSent(_)) if reused => self.resend(&request).await?,
            Err(Failure::NothingAnswered(_)) if reused && post_body.is_none() => {
                self.resend(&request).await?
            }
            Err(failure) => return Err(failure.into_call_error()),
        };
        if answer.keep_alive {
            self.idle.give_back(connection, Instant::now());
        }
        Ok(answer.answer)
    }

    /// The request again, on a new connection.
    async fn resend(&self, request: &[u8]) -> Result<(Connection, Framed), CallError> {
        let mut fresh = self.connect().await?;
        let answer = exchange_on(&mut fresh, request)
            .await
            .map_err(Failure::into_call_error)?;
        Ok((fresh, answer))
    }

    /// The whole request in one buffer: one write.
    fn request(
        &self,
        post_body: Option<&[u8]>,
        path_and_query: &str,
    ) -> Result<Vec<u8>, CallError> {
        // What hyper's URI parser refused: a request target is origin-form and has no white
        // space or control characters (anything else would split the request line).
        if !path_and_query.starts_with('/') || path_and_query.bytes().any(|b| !b.is_ascii_graphic())
        {
            return Err(CallError::Connect(format!(
                "bad request path `{path_and_query}`"
            )));
        }
        let body_len = post_body.map_or(0, <[u8]>::len);
        let mut request =
            Vec::with_capacity(path_and_query.len() + self.authority.len() + 96 + body_len);
        let method: &[u8] = if post_body.is_some() {
            b"POST "
        } else {
            b"GET "
        };
        request.extend_from_slice(method);
        request.extend_from_slice(path_and_query.as_bytes());
        request.extend_from_slice(b" HTTP/1.1\r\nhost: ");
        request.extend_from_slice(self.authority.as_bytes());
        if let Some(body) = post_body {
            request.extend_from_slice(b"\r\ncontent-type: application/json\r\ncontent-length: ");
            // Writing into a Vec cannot fail.
            let _ = write!(request, "{}", body.len());
            request.extend_from_slice(b"\r\n\r\n");
            request.extend_from_slice(body);
        } else {
            request.extend_from_slice(b"\r\n\r\n");
        }
        Ok(request)
    }

    async fn connect(&self) -> Result<Connection, CallError> {
        let stream = TcpStream::connect(self.address.as_str())
            .await
            .map_err(|e| CallError::Connect(e.to_string()))?;
        stream
            .set_nodelay(true)
            .map_err(|e| CallError::Connect(e.to_string()))?;
        Ok(Connection {
            stream,
            buffer: Vec::with_capacity(INITIAL_BUFFER),
        })
    }
}

/// An answer and whether its connection can take the next request.
struct Framed {
    answer: Answer,
    keep_alive: bool,
}

/// How an exchange failed.
enum Failure {
    /// The request could not be written: the connection was already broken.
    NotSent(io::Error),
    /// The connection ended (or broke) before a single byte of the answer.
    NothingAnswered(io::Error),
    /// It broke in the middle of the answer.
    Broken(io::Error),
    /// The bytes were not an HTTP/1.x answer.
    Malformed(String),
}

impl Failure {
    /// Only a request that could not be written is "not sent" ([`CallError::Connect`]): once it
    /// was written whole, the node may have read and taken it, whatever became of the answer
    /// ([`CallError::Lost`], an unknown outcome). A connection the node closed while it sat
    /// idle is noticed before writing ([`Connection::still_open`]); one it closes in the few
    /// microseconds between that check and the write cannot be told from a node that took the
    /// request and then dropped the connection, so it counts as lost too (a POST is then
    /// looked up by hash, not resent blindly).
    fn into_call_error(self) -> CallError {
        match self {
            Failure::NotSent(e) => CallError::Connect(e.to_string()),
            Failure::NothingAnswered(e) => CallError::Lost(format!("no answer: {e}")),
            Failure::Broken(e) => CallError::Lost(format!("answer cut off: {e}")),
            Failure::Malformed(why) => CallError::Lost(format!("malformed HTTP answer: {why}")),
        }
    }
}

fn connection_closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "connection closed before the answer was complete",
    )
}

async fn exchange_on(connection: &mut Connection, request: &[u8]) -> Result<Framed, Failure> {
    connection.buffer.clear();
    connection
        .stream
        .write_all(request)
        .await
        .map_err(Failure::NotSent)?;
    read_answer(connection).await
}

/// Reads more of the answer into the buffer; false at the connection's end.
async fn fill(connection: &mut Connection) -> Result<bool, Failure> {
    if connection.buffer.capacity() - connection.buffer.len() < INITIAL_BUFFER / 2 {
        // Doubles: a large answer takes a few reads, not one per KiB.
        connection
            .buffer
            .reserve(connection.buffer.len().max(INITIAL_BUFFER));
    }
    let started_empty = connection.buffer.is_empty();
    match connection.stream.read_buf(&mut connection.buffer).await {
        Ok(0) => Ok(false),
        Ok(_) => Ok(true),
        Err(e) if started_empty => Err(Failure::NothingAnswered(e)),
        Err(e) => Err(Failure::Broken(e)),
    }
}

/// What the head of an answer says about its body and its connection.
struct Head {
    status: u16,
    retry_after: Option<Duration>,
    /// Bytes of the head, blank line included.
    size: usize,
    framing: Framing,
    keep_alive: bool,
}

enum Framing {
    Length(usize),
    Chunked,
    /// HTTP/1.0 style: the body runs to the connection's end.
    UntilClose,
}

async fn read_answer(connection: &mut Connection) -> Result<Framed, Failure> {
    let head = loop {
        if let Some(head) = parse_head(&connection.buffer)? {
            // 1xx answers (100 Continue) are followed by the real one.
            if (100..200).contains(&head.status) {
                connection.buffer.drain(..head.size);
                continue;
            }
            break head;
        }
        if connection.buffer.len() > MAX_HEAD {
            return Err(Failure::Malformed("response head too large".to_owned()));
        }
        if !fill(connection).await? {
            return Err(if connection.buffer.is_empty() {
                Failure::NothingAnswered(connection_closed())
            } else {
                Failure::Broken(connection_closed())
            });
        }
    };
    let no_body = head.status == 204 || head.status == 304;
    let (body, keep_alive) = match head.framing {
        _ if no_body => (Bytes::new(), head.keep_alive),
        Framing::Length(length) => {
            if length > MAX_BODY {
                return Err(Failure::Malformed(format!("body of {length} bytes")));
            }
            let end = head.size + length;
            while connection.buffer.len() < end {
                if !fill(connection).await? {
                    return Err(Failure::Broken(connection_closed()));
                }
            }
            let body = Bytes::copy_from_slice(&connection.buffer[head.size..end]);
            // Anything after the answer was not asked for: the connection is not reused.
            (body, head.keep_alive && connection.buffer.len() == end)
        }
        Framing::Chunked => {
            let (body, end) = loop {
                if let Some(done) = dechunk(&connection.buffer[head.size..])? {
                    break done;
                }
                if connection.buffer.len() > MAX_HEAD + MAX_BODY {
                    return Err(Failure::Malformed("chunked body too large".to_owned()));
                }
                if !fill(connection).await? {
                    return Err(Failure::Broken(connection_closed()));
                }
            };
            let reusable = connection.buffer.len() == head.size + end;
            (Bytes::from(body), head.keep_alive && reusable)
        }
        Framing::UntilClose => {
            while fill(connection).await? {
                if connection.buffer.len() > MAX_HEAD + MAX_BODY {
                    return Err(Failure::Malformed("body too large".to_owned()));
                }
            }
            (
                Bytes::copy_from_slice(&connection.buffer[head.size..]),
                false,
            )
        }
    };
    connection.buffer.clear();
    if connection.buffer.capacity() > KEPT_BUFFER {
        connection.buffer.shrink_to(INITIAL_BUFFER);
    }
    Ok(Framed {
        answer: Answer {
            status: head.status,
            retry_after: head.retry_after,
            body,
        },
        keep_alive,
    })
}

fn parse_head(buffer: &[u8]) -> Result<Option<Head>, Failure> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let size = match response.parse(buffer) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(Failure::Malformed(e.to_string())),
    };
    let status = response.code.unwrap_or(0);
    let http_1_1 = response.version == Some(1);
    let mut content_length = None;
    let mut chunked = false;
    let mut connection_close = !http_1_1;
    let mut retry_after = None;
    for header in response.headers.iter() {
        let value = std::str::from_utf8(header.value).unwrap_or("").trim();
        if header.name.eq_ignore_ascii_case("content-length") {
            let length = value
                .parse::<usize>()
                .map_err(|_| Failure::Malformed(format!("content-length `{value}`")))?;
            if content_length.is_some_and(|seen| seen != length) {
                return Err(Failure::Malformed("conflicting content-length".to_owned()));
            }
            content_length = Some(length);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        } else if header.name.eq_ignore_ascii_case("connection") {
            for option in value.split(',').map(str::trim) {
                if option.eq_ignore_ascii_case("close") {
                    connection_close = true;
                } else if option.eq_ignore_ascii_case("keep-alive") && !http_1_1 {
                    connection_close = false;
                }
            }
        } else if header.name.eq_ignore_ascii_case("retry-after") {
            retry_after = value.parse::<u64>().ok().map(Duration::from_secs);
        }
    }
    // Chunked wins over a length (RFC 9112 6.3), and such an answer is not reused.
    let framing = match (chunked, content_length) {
        (true, length) => {
            connection_close |= length.is_some();
            Framing::Chunked
        }
        (false, Some(length)) => Framing::Length(length),
        (false, None) => Framing::UntilClose,
    };
    Ok(Some(Head {
        status,
        retry_after,
        size,
        framing,
        keep_alive: !connection_close,
    }))
}

/// Decodes a chunked body from `bytes` (what follows the head): the body and how many bytes it
/// took, trailers included, or `None` if it is not complete yet.
fn dechunk(bytes: &[u8]) -> Result<Option<(Vec<u8>, usize)>, Failure> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some(line_end) = find_crlf(&bytes[at..]) else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&bytes[at..at + line_end])
            .map_err(|_| Failure::Malformed("chunk size".to_owned()))?;
        // Chunk extensions (`;name=value`) are allowed and ignored.
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| Failure::Malformed(format!("chunk size `{size_text}`")))?;
        at += line_end + 2;
        if size == 0 {
            // Trailer fields, then the empty line.
            loop {
                let Some(trailer_end) = find_crlf(&bytes[at..]) else {
                    return Ok(None);
                };
                at += trailer_end + 2;
                if trailer_end == 0 {
                    return Ok(Some((body, at)));
                }
            }
        }
        if size > MAX_BODY || body.len() + size > MAX_BODY {
            return Err(Failure::Malformed(format!("chunk of {size} bytes")));
        }
        if bytes.len() < at + size + 2 {
            return Ok(None);
        }
        if &bytes[at + size..at + size + 2] != b"\r\n" {
            return Err(Failure::Malformed("chunk not followed by CRLF".to_owned()));
        }
        body.extend_from_slice(&bytes[at..at + size]);
        at += size + 2;
    }
}

fn find_crlf(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|pair| pair == b"\r\n")
}

#[cfg(test)]
mod tests;
