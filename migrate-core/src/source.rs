//! Reading a migrations directory from disk: the one place the macro, the runtime and the
//! CLI list and read migration files, so they all see the same files.

use std::fs;
use std::path::Path;

use crate::name::is_candidate;
use crate::problem::Problem;

/// A candidate migration file as read from the directory: its name and its raw bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// The file name, relative to the migrations directory.
    pub file_name: String,
    /// The file's contents, unchecked, or what the operating system said when reading it.
    pub contents: Result<Vec<u8>, String>,
}

/// Lists and reads every candidate migration file of `dir` (see
/// [`is_candidate`]), sorted by name. Subdirectories are ignored.
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
        let path = entry.path();
        if path.is_dir() {
            continue;
        }
        let contents = if raw_name.to_str().is_none() {
            Err("the file name is not valid UTF-8; rename it".to_owned())
        } else {
            fs::read(&path).map_err(|error| error.to_string())
        };
        files.push(SourceFile {
            file_name: lossy_name,
            contents,
        });
    }
    files.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    Ok(files)
}
