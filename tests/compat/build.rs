// New migration files must rebuild the crate (see the README's "Rebuilds"). Without `bundled`,
// also record the version of the system SQLite that the test must find linked.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=newer-sqlite");
    if std::env::var_os("CARGO_FEATURE_BUNDLED").is_none() {
        let output = std::process::Command::new("pkg-config")
            .args(["--modversion", "sqlite3"])
            .output();
        match output {
            Ok(output) if output.status.success() => {
                let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
                println!("cargo:rustc-env=SYSTEM_SQLITE_VERSION={version}");
            }
            _ => panic!(
                "`pkg-config --modversion sqlite3` failed: without the `bundled` feature this \
                 crate links the system's SQLite; install it (Debian: apt-get install \
                 libsqlite3-dev pkg-config)"
            ),
        }
    }
}
