//! Kubernetes object names derived from Webex data (used by `import`, the CSV converter and the
//! UserClaim reconciler, which must agree on them).

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

/// A second name for `email` when [`object_name_for_email`]'s is taken by another email (two
/// emails that differ only in punctuation, or in what lies past 63 characters): the first 54
/// characters of that name and 8 hex digits of a stable hash (FNV-1a) of the lower-cased email.
pub fn distinct_object_name_for_email(email: &str) -> String {
    use std::hash::Hasher;
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(email.to_ascii_lowercase().as_bytes());
    let base: String = object_name_for_email(email).chars().take(54).collect();
    format!("{}-{:08x}", base.trim_end_matches('-'), hasher.finish() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_names_differ_for_emails_that_share_a_name() {
        let (a, b) = ("a.b@x.io", "a-b@x.io");
        assert_eq!(object_name_for_email(a), object_name_for_email(b));
        let (da, db) = (distinct_object_name_for_email(a), distinct_object_name_for_email(b));
        assert_ne!(da, db);
        assert!(da.starts_with("a-b-x-io-") && da.len() == "a-b-x-io-".len() + 8, "{da}");
        // Stable, and blind to case like Webex emails.
        assert_eq!(distinct_object_name_for_email("A.B@X.io"), da);
        let long = format!("{}@x.io", "a".repeat(80));
        let name = distinct_object_name_for_email(&long);
        assert!(name.len() <= 63, "{name}");
        assert_ne!(
            name,
            distinct_object_name_for_email(&format!("{}b@x.io", "a".repeat(80)))
        );
    }

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
