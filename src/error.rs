//! The library's error type. User errors (bad model, config, data or paths) carry the file and node
//! they concern; the CLI maps them to exit code 2, internal errors to 1.

use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong, and whose fault it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Bad input: model, config, data file, command line or output location.
    Input {
        file: Option<PathBuf>,
        node: Option<String>,
        message: String,
    },
    /// A compiler bug or an environment failure the user could not have prevented.
    Internal(String),
    /// The design's estimate exceeds a `--budget`: the table of what is over.
    OverBudget(String),
    /// Two traces `hlsrs diff` compared differ: where.
    Differs(String),
    /// `hlsrs report --check`: the estimate lands beyond its tolerance of a synthesis figure.
    Beyond(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A user error with only a message.
    pub fn input(message: impl Into<String>) -> Error {
        Error::Input {
            file: None,
            node: None,
            message: message.into(),
        }
    }
    pub fn internal(message: impl Into<String>) -> Error {
        Error::Internal(message.into())
    }
    pub fn differs(message: impl Into<String>) -> Error {
        Error::Differs(message.into())
    }
    /// Names the file the error concerns (kept if one is already set).
    pub fn in_file(self, path: &Path) -> Error {
        match self {
            Error::Input {
                file: None,
                node,
                message,
            } => Error::Input {
                file: Some(path.to_path_buf()),
                node,
                message,
            },
            e => e,
        }
    }
    /// Names the node the error concerns (kept if one is already set).
    pub fn at_node(self, name: &str) -> Error {
        match self {
            Error::Input {
                file,
                node: None,
                message,
            } => Error::Input {
                file,
                node: Some(name.to_string()),
                message,
            },
            e => e,
        }
    }
    /// The message alone (without file or node).
    pub fn message(&self) -> &str {
        match self {
            Error::Input { message, .. } => message,
            Error::Internal(m) | Error::OverBudget(m) | Error::Differs(m) | Error::Beyond(m) => m,
        }
    }
    pub fn is_user_error(&self) -> bool {
        matches!(self, Error::Input { .. })
    }
    /// The process exit code: 2 bad input, 3 a check failed (over budget, traces differ), 1
    /// internal error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Input { .. } => 2,
            Error::OverBudget(_) | Error::Differs(_) | Error::Beyond(_) => 3,
            Error::Internal(_) => 1,
        }
    }
    /// An I/O failure on a path the user gave.
    pub fn io(path: &Path, what: &str, e: std::io::Error) -> Error {
        Error::input(format!("cannot {what}: {e}")).in_file(path)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input {
                file,
                node,
                message,
            } => {
                if let Some(p) = file {
                    write!(f, "{}: ", p.display())?;
                }
                if let Some(n) = node {
                    write!(f, "node '{n}': ")?;
                }
                f.write_str(message)
            }
            Error::Internal(m) => write!(f, "internal error: {m}"),
            Error::OverBudget(table) => write!(f, "over budget:\n{table}"),
            Error::Differs(m) => write!(f, "traces differ: {m}"),
            Error::Beyond(m) => write!(f, "estimate beyond its tolerance: {m}"),
        }
    }
}

impl std::error::Error for Error {}
