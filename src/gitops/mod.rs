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

/// A Kubernetes object name (DNS-1123 label) derived from an email: `ada.lovelace@acme.example`
/// becomes `ada-lovelace-acme-example`, at most 63 characters.
pub fn object_name_for_email(email: &str) -> String {
    let mut name = String::new();
    for c in email.to_ascii_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let mut name: String = name.trim_matches('-').chars().take(63).collect();
    while name.ends_with('-') {
        name.pop();
    }
    if name.is_empty() { "user".to_string() } else { name }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_dns_labels() {
        assert_eq!(
            object_name_for_email("Ada.Lovelace@Acme.example"),
            "ada-lovelace-acme-example"
        );
        assert_eq!(object_name_for_email("a+b__c@x.io"), "a-b-c-x-io");
        let long = format!("{}@x.io", "a".repeat(80));
        assert_eq!(object_name_for_email(&long).len(), 63);
        assert_eq!(object_name_for_email("@@"), "user");
    }
}
