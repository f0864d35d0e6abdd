//! Rendering: text for people (coloured as the terminal conventions say), one JSON document
//! for scripts, and errors on stderr.
//!
//! Colour follows anstream, as clap's own help does: `NO_COLOR` (set and non-empty) turns it
//! off, `CLICOLOR_FORCE` turns it on even when the stream is not a terminal, `CLICOLOR=0`
//! turns it off, and otherwise a terminal that supports colour gets it. Text is written
//! through anstream's streams, which also translate colours for older Windows consoles.

use std::io::{self, Write};

use anstream::ColorChoice;
use anstyle::{AnsiColor, Effects};
use serde::Serialize;

use crate::failure::{Exit, Failure};

/// A command's result: serialised as is for `--json`, or rendered as text.
pub(crate) trait Document: Serialize {
    /// The text form, ending with a newline, for stdout.
    fn human(&self, style: Style) -> String;
}

/// Colours, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Style {
    color: bool,
}

/// The colours the output uses.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Color {
    Green,
    Yellow,
    Red,
    Bold,
}

impl Style {
    /// Colours when anstream's conventions give `stream` colour (see the module docs).
    pub(crate) fn detect<S: anstream::stream::RawStream>(stream: &S) -> Style {
        Style {
            color: anstream::AutoStream::choice(stream) != ColorChoice::Never,
        }
    }

    /// `text` in `color`, or as is.
    pub(crate) fn paint(self, color: Color, text: &str) -> String {
        if !self.color {
            return text.to_owned();
        }
        let style = match color {
            Color::Green => anstyle::Style::new().fg_color(Some(AnsiColor::Green.into())),
            Color::Yellow => anstyle::Style::new().fg_color(Some(AnsiColor::Yellow.into())),
            Color::Red => anstyle::Style::new()
                .fg_color(Some(AnsiColor::Red.into()))
                .effects(Effects::BOLD),
            Color::Bold => anstyle::Style::new().effects(Effects::BOLD),
        };
        format!("{style}{text}{style:#}")
    }
}

/// Where and how a command prints.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Output {
    json: bool,
    stdout: Style,
    stderr: Style,
}

impl Output {
    /// Text or JSON, with colours decided per stream.
    pub(crate) fn new(json: bool) -> Output {
        Output {
            json,
            stdout: Style::detect(&io::stdout()),
            stderr: Style::detect(&io::stderr()),
        }
    }

    /// Prints a command's result on stdout.
    ///
    /// # Errors
    /// When stdout cannot be written (a closed pipe is not an error: the reader has what it
    /// wanted).
    pub(crate) fn emit(&self, document: &impl Document) -> Result<(), Failure> {
        let text = if self.json {
            json(document)
        } else {
            document.human(self.stdout)
        };
        write_stdout(&text)
    }

    /// Prints a failure: `error: <message>` on stderr (one line per problem of a migrations
    /// directory, as the macro reports them), and with `--json` also the error document on
    /// stdout.
    pub(crate) fn failure(&self, failure: &Failure) {
        let label = self.stderr.paint(Color::Red, "error");
        let mut text = String::new();
        if failure.exit == Exit::Directory {
            for problem in &failure.problems {
                text.push_str(&format!("{label}: {}\n", problem.message));
            }
            if failure.problems.len() != 1 {
                text.push_str(&format!("{}\n", failure.message));
            }
        } else {
            text.push_str(&format!("{label}: {}\n", failure.message));
        }
        // Nothing sensible is left to do if stderr is gone.
        let _ = anstream::stderr().lock().write_all(text.as_bytes());
        if self.json {
            let _ = write_stdout(&json(&ErrorDocument::from(failure)));
        }
    }
}

/// Pretty-printed JSON with a final newline.
fn json(value: &impl Serialize) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(mut text) => {
            text.push('\n');
            text
        }
        // The documents are plain structs of strings and numbers: this cannot happen.
        Err(error) => format!("{{\"error\": {{\"message\": {:?}}}}}\n", error.to_string()),
    }
}

fn write_stdout(text: &str) -> Result<(), Failure> {
    let mut stdout = anstream::stdout().lock();
    finish_write(
        stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush()),
    )
}

/// Writes `bytes` to stdout as they are (a completion script: no colour to adapt).
///
/// # Errors
/// As [`Output::emit`].
pub(crate) fn write_raw(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = io::stdout().lock();
    finish_write(stdout.write_all(bytes).and_then(|()| stdout.flush()))
}

fn finish_write(result: io::Result<()>) -> Result<(), Failure> {
    match result {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(Failure::failed(
            "output",
            format!("cannot write to stdout: {error}"),
        )),
    }
}

/// `{"error": {...}}`: what `--json` prints on stdout when a command fails.
#[derive(Serialize)]
struct ErrorDocument<'a> {
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    /// A stable snake_case name of the failure.
    kind: &'static str,
    /// The process's exit status.
    exit_code: u8,
    /// The message, as printed on stderr.
    message: &'a str,
    /// For a migrations directory with problems: each one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<ProblemDocument>,
    /// For a run that failed while migrations ran: the files it committed before the failure,
    /// in order (they stay applied; empty when the failure rolled everything back).
    #[serde(skip_serializing_if = "Option::is_none")]
    committed: Option<&'a [String]>,
    /// For a run that failed while migrations ran: where the database is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    left_at: Option<LeftAtDocument>,
}

/// The database's state after a failed run.
#[derive(Serialize)]
struct LeftAtDocument {
    /// The version; `null`: nothing applied.
    version: Option<u64>,
    /// Whether it is dirty.
    dirty: bool,
}

/// One problem of a migrations directory.
#[derive(Serialize)]
pub(crate) struct ProblemDocument {
    /// The file it is about, relative to the directory (the directory itself when it cannot
    /// be read).
    pub(crate) file: String,
    /// The 1-based line, where the problem has one.
    pub(crate) line: Option<usize>,
    /// The message, exactly as the macro reports it.
    pub(crate) message: String,
}

impl<'a> From<&'a Failure> for ErrorDocument<'a> {
    fn from(failure: &'a Failure) -> ErrorDocument<'a> {
        ErrorDocument {
            error: ErrorBody {
                kind: failure.kind,
                exit_code: failure.exit as u8,
                message: &failure.message,
                committed: failure.run.as_ref().map(|run| run.committed.as_slice()),
                left_at: failure.run.as_ref().map(|run| LeftAtDocument {
                    version: run.version,
                    dirty: run.dirty,
                }),
                problems: failure
                    .problems
                    .iter()
                    .map(|problem| ProblemDocument {
                        file: problem.file.clone(),
                        line: problem.line,
                        message: problem.message.clone(),
                    })
                    .collect(),
            },
        }
    }
}

/// Left-aligned columns, two spaces apart; `cells` are `(text, colour)` and padding is
/// computed on the text, so colours do not break alignment.
pub(crate) fn table(
    style: Style,
    header: &[&str],
    rows: &[Vec<(String, Option<Color>)>],
) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, (text, _)) in widths.iter_mut().zip(row) {
            *width = (*width).max(text.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<(String, Option<Color>)>, out: &mut String| {
        let last = cells.len().saturating_sub(1);
        for (i, ((text, color), width)) in cells.into_iter().zip(&widths).enumerate() {
            let padding = if i == last {
                String::new()
            } else {
                " ".repeat(width - text.chars().count() + 2)
            };
            match color {
                Some(color) => out.push_str(&style.paint(color, &text)),
                None => out.push_str(&text),
            }
            out.push_str(&padding);
        }
        out.push('\n');
    };
    line(
        header
            .iter()
            .map(|h| ((*h).to_owned(), Some(Color::Bold)))
            .collect(),
        &mut out,
    );
    for row in rows {
        line(row.clone(), &mut out);
    }
    out
}
