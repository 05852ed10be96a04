//! What one evaluation of an expression may cost, and the clock that enforces it.
//!
//! An expression is user input that runs inside the server process (Preview in the task
//! editor, every record of a run), so no expression may take the process down or hold a
//! worker: every cost is bounded *before* it is paid.
//! - **Text**: the expression itself is at most [`MAX_EXPRESSION_CHARS`]; no value an
//!   expression makes is longer than [`MAX_TEXT_BYTES`]. Rhai checks its own operators after
//!   each step (their results are at most twice their inputs); every function registered in
//!   `library.rs` computes the size of its result from its inputs and refuses before
//!   allocating.
//! - **Work**: at most [`MAX_OPERATIONS`] steps; no loops, closures or function definitions
//!   (the language has none of them: expressions only, `no_function`), so the work of one
//!   step is bounded by the size of its inputs.
//! - **Time**: [`TIME_LIMIT`] of wall-clock time per record, checked at every step. A run
//!   evaluates its mappings on a blocking thread, never on the async workers.
//!
//! Exceeding a limit is an error of that record (in a run) or of the preview row, naming
//! the limit.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// The longest expression accepted, in characters.
pub const MAX_EXPRESSION_CHARS: usize = 10_000;
/// The longest text (or binary value) an expression may produce, in bytes.
pub const MAX_TEXT_BYTES: usize = 10 * 1024 * 1024;
/// The most elements of a list an expression may make (`split`).
pub const MAX_LIST_ITEMS: usize = 10_000;
/// Steps of one evaluation.
pub const MAX_OPERATIONS: u64 = 100_000;
/// Wall-clock time of one evaluation.
pub const TIME_LIMIT: Duration = Duration::from_millis(250);

thread_local! {
    /// When the evaluation running on this thread must stop (`None`: none is running).
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Starts the clock of one evaluation on this thread; the clock stops when the guard drops.
pub(super) fn start_clock() -> ClockGuard {
    let previous = DEADLINE.with(|d| d.replace(Some(Instant::now() + TIME_LIMIT)));
    ClockGuard { previous }
}

pub(super) struct ClockGuard {
    previous: Option<Instant>,
}

impl Drop for ClockGuard {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(self.previous));
    }
}

/// Whether the evaluation on this thread has run out of time.
pub(super) fn out_of_time() -> bool {
    DEADLINE.with(|d| d.get().is_some_and(|deadline| Instant::now() >= deadline))
}

/// The message of a result that would be too long.
pub(super) fn too_long(function: &str, bytes: usize) -> String {
    format!(
        "{function}() would make a text of {} MB; an expression may make at most {} MB",
        bytes.div_ceil(1024 * 1024),
        MAX_TEXT_BYTES / (1024 * 1024)
    )
}

/// `Ok` when a result of `bytes` bytes is allowed.
pub(super) fn check_size(function: &str, bytes: usize) -> Result<(), String> {
    if bytes > MAX_TEXT_BYTES {
        Err(too_long(function, bytes))
    } else {
        Ok(())
    }
}
