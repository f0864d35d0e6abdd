//! Reading a migrations directory from disk: the one place the macro, the runtime and the
//! CLI list and read migration files, so they all see the same files.

use std::fs::{self, File, FileType};
use std::io::Read;
use std::path::Path;

use crate::name::is_candidate;
use crate::problem::Problem;

/// A candidate migration file as read from the directory: its name and its raw bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// The file name, relative to the migrations directory.
    pub file_name: String,
    /// The file's contents, unchecked, or why it could not be read and what to do (reported
    /// as [`Problem::Unreadable`]).
    pub contents: Result<Vec<u8>, String>,
}

/// Lists and reads every candidate migration file of `dir` (see [`is_candidate`]), sorted by
/// name.
///
/// A candidate must be a regular file, or a symbolic link to one (links are followed, as
/// golang-migrate does). Anything else named like a migration (a directory, a link to a
/// directory, a dangling link, a named pipe, a socket, a device) is listed with an error that
/// says what it is, and is never opened: opening a named pipe would block until something
/// writes to it. Entries whose names are not candidates (a `README.md`, a `seeds/`
/// subdirectory) are not looked at.
///
/// A file that cannot be read is still listed, with its error, so that
/// [`check`](crate::check::check) reports it together with every other problem.
///
/// # Errors
/// [`Problem::Directory`] when the directory cannot be listed.
pub fn read_dir(dir: &Path) -> Result<Vec<SourceFile>, Problem> {
    let directory_problem = |error: std::io::Error| Problem::Directory {
        path: dir.to_path_buf(),
        error: error.to_string(),
    };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(directory_problem)? {
        let entry = entry.map_err(directory_problem)?;
        let raw_name = entry.file_name();
        let lossy_name = raw_name.to_string_lossy().into_owned();
        if !is_candidate(&lossy_name) {
            continue;
        }
        let contents = if raw_name.to_str().is_none() {
            Err("the file name is not valid UTF-8; rename it".to_owned())
        } else {
            read_regular(&entry.path())
        };
        files.push(SourceFile {
            file_name: lossy_name,
            contents,
        });
    }
    files.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    Ok(files)
}

/// What to do about a candidate that cannot be read as a migration.
const REPLACE: &str = "a migration must be a regular file (or a link to one): replace it with \
                       the migration's SQL file, or move it out of the migrations directory";

/// Reads `path` if it is a regular file once links are followed; never opens anything else.
fn read_regular(path: &Path) -> Result<Vec<u8>, String> {
    // `metadata` follows links and opens nothing, so a named pipe is never opened.
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) => return Err(not_found_or(path, &error)),
    };
    if !metadata.is_file() {
        return Err(format!(
            "it is {}, not a regular file; {REPLACE}",
            describe(path, metadata.file_type())
        ));
    }
    let mut file = File::open(path).map_err(|error| readable(&error))?;
    // The entry may have been replaced between the look and the open: check what was opened.
    match file.metadata() {
        Ok(opened) if opened.is_file() => {}
        Ok(opened) => {
            return Err(format!(
                "it is {}, not a regular file; {REPLACE}",
                describe(path, opened.file_type())
            ));
        }
        Err(error) => return Err(readable(&error)),
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.read_to_end(&mut bytes)
        .map_err(|error| readable(&error))?;
    Ok(bytes)
}

/// An error for a path `metadata` could not follow: a dangling link is named as such.
fn not_found_or(path: &Path, error: &std::io::Error) -> String {
    let is_link = fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink());
    if is_link && error.kind() == std::io::ErrorKind::NotFound {
        let target = fs::read_link(path)
            .map(|target| format!(" to `{}`", target.display()))
            .unwrap_or_default();
        return format!(
            "it is a symbolic link{target}, which points to nothing: make it point to the \
             migration's SQL file, replace it with that file, or move it out of the migrations \
             directory"
        );
    }
    readable(error)
}

/// An operating system error while reading a regular file.
fn readable(error: &std::io::Error) -> String {
    format!("{error}; make it a readable file")
}

/// "a directory", "a named pipe (FIFO)", …: what a non-regular entry is, links followed, and
/// "a symbolic link to …" when it is one.
fn describe(path: &Path, file_type: FileType) -> String {
    let what = kind(file_type);
    match fs::read_link(path) {
        Ok(target) => format!("a symbolic link to `{}`, which is {what}", target.display()),
        Err(_) => what.to_owned(),
    }
}

#[cfg(unix)]
fn kind(file_type: FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a named pipe (FIFO)"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_block_device() || file_type.is_char_device() {
        "a device"
    } else {
        "not a file"
    }
}

#[cfg(not(unix))]
fn kind(file_type: FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}
