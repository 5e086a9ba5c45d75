//! One module per runtime; each turns [`crate::contender::Command`]s into calls
//! on its real lock implementation.
mod child;
pub mod curator;
pub mod kazurator;
pub mod rust;
pub mod rust_process;
