//! The process exit codes, in one place.

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Every input was read and every output written.
    Success = 0,
    /// The run finished, but some inputs could not be read or outputs written (named on stderr).
    SomeFailed = 1,
    /// Bad usage, or the run could not start.
    Usage = 2,
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}
