// Rebuild when a migration is added or removed: a proc macro cannot watch a directory, but a
// build script can. (Edits to existing files are tracked by the macro's `include_str!`.)
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
