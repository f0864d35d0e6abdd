//! Progress on stderr, driven by the runtime's per-migration callback
//! ([`Options::on_step`](migrate_runtime::Options::on_step)), which is called inside the run's
//! transaction as soon as each migration's SQL has run.
//!
//! On a terminal, once a run has lasted [`DELAY`], one line is redrawn: a bar of the migrations
//! that ran, the last one, and the time elapsed; it is erased when the run ends, before the
//! report is printed. Migrations that share one transaction commit together at the end, so the
//! line counts what *ran*; the report (or the error) says what was committed. With
//! `--progress always` and stderr not a terminal (a CI log), each migration prints one plain
//! line instead, as it runs.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use migrate_core::name::format_version;
use migrate_runtime::Step;

use crate::cli::ProgressArg;

/// Runs shorter than this show no progress line at all.
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
    /// Migrations whose SQL ran so far.
    done: usize,
    /// The last migration (`up 000002_add_tags`).
    last: String,
    /// Whether a line is on the screen.
    drawn: bool,
}

/// Shared between the step callback and the drawing thread.
type Shared = Arc<Mutex<State>>;

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// One line redrawn on a terminal.
    Line,
    /// One plain line per migration, for a log.
    Plain,
}

/// Whether stderr is a terminal that understands `\r` and erasing.
fn terminal() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
}

/// Whether `--progress` asks for any progress here (the total costs one read, so it is only
/// computed when progress will be shown).
pub(crate) fn wanted(choice: ProgressArg) -> bool {
    mode(choice).is_some()
}

fn mode(choice: ProgressArg) -> Option<Mode> {
    match (choice, terminal()) {
        (ProgressArg::Never, _) => None,
        (_, true) => Some(Mode::Line),
        (ProgressArg::Always, false) => Some(Mode::Plain),
        (ProgressArg::Auto, false) => None,
    }
}

/// Running progress; [`Progress::finish`] erases the line.
pub(crate) struct Progress {
    state: Shared,
    mode: Mode,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts showing progress over `total` migrations (when known), or returns `None` when
    /// `choice` shows none here.
    pub(crate) fn start(choice: ProgressArg, total: Option<usize>) -> Option<Progress> {
        let mode = mode(choice)?;
        let state: Shared = Arc::new(Mutex::new(State {
            total,
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = (mode == Mode::Line).then(|| {
            let (state, stop) = (Arc::clone(&state), Arc::clone(&stop));
            std::thread::spawn(move || draw_until_stopped(&state, &stop))
        });
        Some(Progress {
            state,
            mode,
            stop,
            thread,
        })
    }

    /// The callback for [`Options::on_step`](migrate_runtime::Options::on_step).
    pub(crate) fn on_step(&self) -> impl Fn(&Step) + Send + Sync + 'static {
        let (state, mode) = (Arc::clone(&self.state), self.mode);
        move |step: &Step| {
            let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
            state.done += 1;
            state.last = format!(
                "{} {}_{}",
                step.direction.as_str(),
                format_version(step.version),
                step.name
            );
            if mode == Mode::Plain {
                let _ = writeln!(std::io::stderr(), "progress: {}", counts_text(&state));
            }
        }
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

/// `1/3 ran: up 000001_users` (the plain line, and the end of the terminal line).
fn counts_text(state: &State) -> String {
    let counts = match state.total {
        Some(total) if total > 0 => format!("{}/{total} ran", state.done),
        _ => format!("{} ran", state.done),
    };
    if state.last.is_empty() {
        counts
    } else {
        format!("{counts}: {}", state.last)
    }
}

/// `[########----------------] 1/3 ran: up 000001_users  2.3 s`
fn render(state: &State, elapsed: Duration) -> String {
    let bar = match state.total {
        Some(total) if total > 0 => {
            let filled = (state.done.min(total) * BAR) / total;
            format!("[{}{}] ", "#".repeat(filled), "-".repeat(BAR - filled))
        }
        _ => String::new(),
    };
    format!(
        "{bar}{}  {:.1} s",
        counts_text(state),
        elapsed.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_bar_of_migrations_that_ran() {
        let state = State {
            total: Some(4),
            done: 1,
            last: "up 000001_users".into(),
            drawn: false,
        };
        assert_eq!(
            render(&state, Duration::from_millis(2300)),
            "[######------------------] 1/4 ran: up 000001_users  2.3 s"
        );
    }

    #[test]
    fn renders_a_count_when_the_total_is_unknown() {
        let state = State::default();
        assert_eq!(render(&state, Duration::from_secs(1)), "0 ran  1.0 s");
    }
}
