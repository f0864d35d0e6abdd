// New migration files must rebuild the crate (see the README's "Rebuilds").
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
