//! How a call failed: the [`CallError`] a typed call answers and the [`ErrorClass`] it is counted
//! under. The classes say what is known of the request's fate: nothing sent, sent and refused,
//! answered badly, or sent whole with no complete answer (the outcome is unknown).

use std::time::Duration;

/// How a failed call failed, for counting and for deciding what to do next.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// 4xx other than 408 and 429: the node refused; nothing happened.
    Rejected,
    /// 429: the node's rate limit.
    RateLimited,
    /// 5xx or 408: the outcome is unknown (a POST may have been admitted).
    ServerError,
    /// No answer within the request timeout: outcome unknown.
    Timeout,
    /// The request was not sent: the connection could not be made, or writing the request
    /// failed (the node cannot have read it whole). Nothing happened.
    Connect,
    /// 200 with a body that is not what the endpoint returns: outcome unknown.
    Decode,
    /// The request was written whole but no complete answer came back: the connection closed
    /// or was reset before or during the answer, or the answer was not HTTP. The node may have
    /// taken it: outcome unknown.
    Lost,
}

impl ErrorClass {
    pub const ALL: [ErrorClass; 7] = [
        ErrorClass::Rejected,
        ErrorClass::RateLimited,
        ErrorClass::ServerError,
        ErrorClass::Timeout,
        ErrorClass::Connect,
        ErrorClass::Decode,
        ErrorClass::Lost,
    ];

    /// Position in [`ErrorClass::ALL`], for fixed-size per-class counters.
    #[must_use]
    pub fn index(self) -> usize {
        self as usize
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Rejected => "rejected",
            ErrorClass::RateLimited => "rate_limited",
            ErrorClass::ServerError => "server_error",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Connect => "connect",
            ErrorClass::Decode => "decode",
            ErrorClass::Lost => "lost",
        }
    }

    /// Whether a POST that failed this way may still have been admitted.
    #[must_use]
    pub fn outcome_unknown(self) -> bool {
        matches!(
            self,
            ErrorClass::ServerError | ErrorClass::Timeout | ErrorClass::Decode | ErrorClass::Lost
        )
    }
}

/// A failed call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("HTTP {status} {code}: {message}")]
    Status {
        status: u16,
        code: String,
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("undecodable response: {0}")]
    Decode(String),
    #[error("answer lost after the request was sent: {0}")]
    Lost(String),
}

impl CallError {
    #[must_use]
    pub fn class(&self) -> ErrorClass {
        match self {
            CallError::Timeout(_) => ErrorClass::Timeout,
            CallError::Connect(_) => ErrorClass::Connect,
            CallError::Decode(_) => ErrorClass::Decode,
            CallError::Lost(_) => ErrorClass::Lost,
            CallError::Status { status: 429, .. } => ErrorClass::RateLimited,
            CallError::Status { status, .. } if *status == 408 || *status >= 500 => {
                ErrorClass::ServerError
            }
            CallError::Status { .. } => ErrorClass::Rejected,
        }
    }

    /// The `error_code` of a node's error body, if there was one.
    #[must_use]
    pub fn error_code(&self) -> Option<&str> {
        match self {
            CallError::Status { code, .. } if !code.is_empty() => Some(code),
            _ => None,
        }
    }

    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(self, CallError::Status { status: 404, .. })
    }
}
