//! One module per runtime; each turns [`crate::contender::Command`]s into calls
//! on its real lock implementation.
pub mod adapter;
pub mod bounded_line;
pub(crate) mod child;
pub mod curator;
pub mod external;
pub mod go_zk;
pub mod kazurator;
pub mod line;
pub mod rust;
mod rust_data;
mod rust_guards;
pub mod rust_process;
mod session;
pub mod zk_client;
