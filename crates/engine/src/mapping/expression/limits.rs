//! What one evaluation of an expression may cost, and the clock that enforces it.
//!
//! An expression is user input that runs inside the server process (Preview in the task
//! editor, every record of a run), so no expression may take the process down or hold a
//! worker: every cost is bounded *before* it is paid.
//! - **Text**: the expression itself is at most [`MAX_EXPRESSION_CHARS`]; no value an
//!   expression makes is longer than [`MAX_TEXT_BYTES`], and all the text one evaluation
//!   makes adds up to at most [`MAX_EVALUATION_BYTES`] (so values held while others are
//!   computed cannot add up either). Every function and operator that makes text
//!   (`library.rs`, `+` included) computes the size of its result from its inputs and
//!   refuses before allocating.
//! - **Work**: at most [`MAX_OPERATIONS`] steps; no loops, closures or function definitions
//!   (the language has none of them: expressions only, `no_function`), so the work of one
//!   step is bounded by the size of its inputs.
//! - **Time**: [`TIME_LIMIT`] of wall-clock time per record, checked at every step. A run
//!   evaluates its mappings on a blocking thread, never on the async workers, and at most
//!   [`CONCURRENT_EVALUATIONS`] batches are evaluated at once in a process, which bounds the
//!   memory all evaluations can hold together.
//!
//! Exceeding a limit is an error of that record (in a run) or of the preview row, naming
//! the limit.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// The longest expression accepted, in characters.
pub const MAX_EXPRESSION_CHARS: usize = 10_000;
/// The longest text (or binary value) an expression may produce, in bytes.
pub const MAX_TEXT_BYTES: usize = 10 * 1024 * 1024;
/// All the text one evaluation may make, in bytes.
pub const MAX_EVALUATION_BYTES: usize = 32 * 1024 * 1024;
/// Batches whose mappings are evaluated at the same time in one process.
pub const CONCURRENT_EVALUATIONS: usize = 4;
/// The most elements of a list an expression may make (`split`).
pub const MAX_LIST_ITEMS: usize = 10_000;
/// Steps of one evaluation.
pub const MAX_OPERATIONS: u64 = 100_000;
/// Wall-clock time of one evaluation (generous: a busy machine may pause a thread, and an
/// ordinary expression takes microseconds).
pub const TIME_LIMIT: Duration = Duration::from_secs(1);

thread_local! {
    /// When the evaluation running on this thread must stop (`None`: none is running).
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// Bytes of text the evaluation running on this thread may still make.
    static BUDGET: Cell<usize> = const { Cell::new(MAX_EVALUATION_BYTES) };
}

/// Starts the clock and the text budget of one evaluation on this thread; both are put back
/// when the guard drops.
pub(super) fn start_clock() -> ClockGuard {
    let previous = DEADLINE.with(|d| d.replace(Some(Instant::now() + TIME_LIMIT)));
    let budget = BUDGET.with(|b| b.replace(MAX_EVALUATION_BYTES));
    ClockGuard { previous, budget }
}

pub(super) struct ClockGuard {
    previous: Option<Instant>,
    budget: usize,
}

impl Drop for ClockGuard {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(self.previous));
        BUDGET.with(|b| b.set(self.budget));
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

/// `Ok` when a result of `bytes` bytes is allowed, and then counted against the
/// evaluation's budget.
pub(super) fn check_size(function: &str, bytes: usize) -> Result<(), String> {
    if bytes > MAX_TEXT_BYTES {
        return Err(too_long(function, bytes));
    }
    BUDGET.with(|b| match b.get().checked_sub(bytes) {
        Some(left) => {
            b.set(left);
            Ok(())
        }
        None => Err(format!(
            "the expression made more than {} MB of text for this record",
            MAX_EVALUATION_BYTES / (1024 * 1024)
        )),
    })
}
