//! A progress line on stderr for long runs, on a terminal only.
//!
//! The runtime logs one record (target `migrate`) per migration when it is committed. This
//! module installs a small [`log::Log`] that counts those records, and a thread that, once a
//! run has lasted [`DELAY`], redraws one line: a bar of committed migrations, the last one,
//! and the time elapsed. Migrations that share one transaction are committed together, so
//! during such a run the bar stays put while the clock runs: it shows what is committed, never
//! more. The line is erased when the run ends, before the report is printed.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Runs shorter than this show no progress at all.
const DELAY: Duration = Duration::from_millis(500);
/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(100);
/// The bar's width in characters.
const BAR: usize = 24;

/// What the progress line shows.
#[derive(Debug, Default)]
struct State {
    /// Migrations the run will apply or roll back, when known.
    total: Option<usize>,
    /// Migrations committed so far.
    done: usize,
    /// The last migration's log message (`up 2 add_tags in 1.2 ms`).
    last: String,
    /// Whether a line is on the screen.
    drawn: bool,
}

/// Shared between the logger and the drawing thread.
type Shared = Arc<Mutex<State>>;

/// Whether progress can be shown: stderr is a terminal that understands `\r` and erasing.
pub(crate) fn available() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
}

/// A running progress line; [`Progress::finish`] erases it.
pub(crate) struct Progress {
    state: Shared,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts counting `total` migrations (when known), or returns `None` when stderr is not a
    /// terminal or a logger is already installed.
    pub(crate) fn start(total: Option<usize>) -> Option<Progress> {
        if !available() {
            return None;
        }
        let state: Shared = Arc::new(Mutex::new(State {
            total,
            ..State::default()
        }));
        // Once per process: the one run of this `migrate` invocation.
        let counter: &'static Counter = Box::leak(Box::new(Counter {
            state: Arc::clone(&state),
        }));
        log::set_logger(counter).ok()?;
        log::set_max_level(log::LevelFilter::Info);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop) = (Arc::clone(&state), Arc::clone(&stop));
            std::thread::spawn(move || draw_until_stopped(&state, &stop))
        };
        Some(Progress {
            state,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops drawing and erases the line.
    pub(crate) fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.drawn {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
            state.drawn = false;
        }
        log::set_max_level(log::LevelFilter::Off);
    }
}

fn draw_until_stopped(state: &Mutex<State>, stop: &AtomicBool) {
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(TICK);
        let elapsed = started.elapsed();
        if elapsed < DELAY || stop.load(Ordering::Relaxed) {
            continue;
        }
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        let line = render(&state, elapsed);
        let _ = write!(std::io::stderr(), "\r\x1b[2K{line}");
        state.drawn = true;
    }
}

/// `[########----------------] 1/3 committed  up 1 users in 0.4 ms  2.3 s`
fn render(state: &State, elapsed: Duration) -> String {
    let counts = match state.total {
        Some(total) if total > 0 => {
            let filled = (state.done.min(total) * BAR) / total;
            format!(
                "[{}{}] {}/{total} committed",
                "#".repeat(filled),
                "-".repeat(BAR - filled),
                state.done
            )
        }
        _ => format!("{} committed", state.done),
    };
    let last = if state.last.is_empty() {
        String::new()
    } else {
        format!("  last: {}", state.last)
    };
    format!("{counts}{last}  {:.1} s", elapsed.as_secs_f64())
}

/// Counts the runtime's per-migration records.
struct Counter {
    state: Shared,
}

impl log::Log for Counter {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target() == "migrate"
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.done += 1;
            state.last = record.args().to_string();
        }
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_bar_of_committed_migrations() {
        let state = State {
            total: Some(4),
            done: 1,
            last: "up 1 users in 0.4 ms".into(),
            drawn: false,
        };
        assert_eq!(
            render(&state, Duration::from_millis(2300)),
            "[######------------------] 1/4 committed  last: up 1 users in 0.4 ms  2.3 s"
        );
    }

    #[test]
    fn renders_a_count_when_the_total_is_unknown() {
        let state = State::default();
        assert_eq!(render(&state, Duration::from_secs(1)), "0 committed  1.0 s");
    }
}
