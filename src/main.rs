//! The `stress-tui` binary: parses the command line and hands over to the library.

fn main() {
    println!("stress-tui {}", env!("CARGO_PKG_VERSION"));
}
