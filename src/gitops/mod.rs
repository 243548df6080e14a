//! GitOps tooling (issue 7), no Kubernetes needed:
//!
//! - `plan`: read manifests, observe Webex read-only through [`crate::webex::client`], run the
//!   controller's own pure planner ([`crate::controller::webex_user::plan`]) and report per
//!   object the actions and the status it would reach.
//!   ExternalUsers go through [`crate::controller::external_user::plan`] the same way
//!   ([`external`]).
//! - `import`: write WebexUser manifests that adopt an org's current users as they are, and
//!   ExternalUser manifests for the external people holding host accounts on its sites.
//! - `csv`: convert a Control Hub users CSV export into manifests and back (R-USER-14, R-CC-5).
//!
//! Pipeline: `input` (files → typed objects, every error names file, document, line, field) →
//! `observe` (client required) → `plan` (no client required) → `render` (text / JSON).
//! Everything that writes files goes through `output`, after all input was checked: bad input
//! writes nothing.

pub mod cli;
pub mod csv;
pub mod error;
pub mod external;
pub mod import;
pub mod input;
pub mod observe;
pub mod output;
pub mod plan;
pub mod progress;
pub mod render;

pub use error::GitopsError;

pub use crate::api::naming::{distinct_object_name_for_email, object_name_for_email};
