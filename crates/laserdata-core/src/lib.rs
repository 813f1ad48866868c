//! Runtime pieces the generated LaserData clients refer to. Users reach them through the
//! `laserdata` crate; depend on this one directly only to write code generic over layers.

pub mod clock;
pub mod hooks;
mod open;
pub mod paging;
pub mod retry;
mod secret;

pub use open::Open;
pub use secret::SecretString;
