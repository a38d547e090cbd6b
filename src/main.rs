//! FieldCheck phone app entry point: mounts the app.
fn main() {}
