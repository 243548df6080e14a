//! The Webex side: wire model, ids, and the HTTP client (the only code that talks to Webex).

pub mod budget;
pub mod calling;
pub mod claims;
pub mod client;
pub mod content_management;
pub mod error;
pub mod ids;
pub mod model;
