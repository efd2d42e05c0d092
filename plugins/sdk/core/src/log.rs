//! Host logging. The host tags every line with plugin id, version and tenant, and caps the lines one call
//! may write. A no-op outside wasm (native unit tests).

/// Logs at trace level.
pub fn trace(message: &str) {
    emit(Level::Trace, message)
}

/// Logs at debug level.
pub fn debug(message: &str) {
    emit(Level::Debug, message)
}

/// Logs at info level.
pub fn info(message: &str) {
    emit(Level::Info, message)
}

/// Logs at warn level.
pub fn warn(message: &str) {
    emit(Level::Warn, message)
}

/// Logs at error level.
pub fn error(message: &str) {
    emit(Level::Error, message)
}

#[derive(Clone, Copy)]
enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

#[cfg(target_arch = "wasm32")]
fn emit(level: Level, message: &str) {
    use crate::wit::nightowl::plugin::log::{Level as L, log};
    log(
        match level {
            Level::Trace => L::Trace,
            Level::Debug => L::Debug,
            Level::Info => L::Info,
            Level::Warn => L::Warn,
            Level::Error => L::Error,
        },
        message,
    );
}

#[cfg(not(target_arch = "wasm32"))]
fn emit(_level: Level, _message: &str) {}
