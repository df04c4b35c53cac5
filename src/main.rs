//! The Switchboard binary: everything lives in the library so tests can mount it.

fn main() {
    switchboard::start();
}
