//! What the macro keeps in the embedding crate's `OUT_DIR` between expansions (the check
//! record of `reuse` and the verification marker of `cache`): how their keys are laid out and
//! how they are written.

use std::path::Path;

/// Appends `value`, little-endian.
pub(crate) fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// Appends `bytes`' length, then `bytes`: no two different sequences of fields give the same
/// key.
pub(crate) fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u64(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Writes `contents` to `path` through a temporary file and a rename, so a reader never sees a
/// partial file. A file that cannot be written only costs the next expansion the work it
/// would have saved, so failures are ignored.
pub(crate) fn write(path: &Path, contents: &[u8]) {
    let Some(parent) = path.parent() else {
        return;
    };
    if std::fs::create_dir_all(parent).is_err() {
        return;
    }
    let partial = path.with_extension(format!("partial-{}", std::process::id()));
    if std::fs::write(&partial, contents).is_ok() && std::fs::rename(&partial, path).is_err() {
        let _ = std::fs::remove_file(&partial);
    }
}
