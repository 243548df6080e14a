//! The domain rules the simulator enforces, as small pure functions (no state, no HTTP).

use std::fmt;

/// Maximum length of a Calling user's first and last name (R-USER-2, webex-api-notes §7).
pub const CALLING_NAME_MAX: usize = 30;
/// Characters a Calling user's first and last name must not contain (R-USER-2).
pub const CALLING_NAME_FORBIDDEN: &[char] = &['%', '#', '<', '>', '\\', '/', '"'];
/// The special characters a password needs one of (R-USER-15).
pub const PASSWORD_SPECIALS: &str = "~!@#$%^&*()-_=+[]{}|;:,.<>/?";
/// Name parts shorter than this are not searched for in passwords (see [`check_password`]).
const PASSWORD_NAME_MIN: usize = 3;

/// Offer codes of Webex Calling Professional and Standard: a user holds at most one (400404).
pub const CALLING_PROFESSIONAL: &str = "BCPRO";
pub const CALLING_STANDARD: &str = "BCSTD";
/// Groups of offer codes of which a user may hold only one licence (400413).
pub const EXCLUSIVE_OFFER_GROUPS: &[&[&str]] = &[&["CJPSTD", "CJPPRM"]];
/// Contact Center Premium agent: required by the supervisor role (R-CC-1, R-CC-3).
pub const CC_PREMIUM: &str = "CJPPRM";

/// A Webex Calling licence (offer codes `BC...`: BCSTD, BCPRO, ...).
pub fn is_calling_offer(offer_code: &str) -> bool {
    offer_code.starts_with("BC")
}

/// A broken rule, with what the error body needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleViolation {
    /// R-USER-2: a name longer than [`CALLING_NAME_MAX`].
    CallingNameTooLong { field: &'static str },
    /// R-USER-2: a forbidden character in a name.
    CallingNameForbiddenChar { field: &'static str, ch: char },
    /// 400411: a Calling licence without phone number / extension (+ location).
    CallingPropertiesMissing { licenses: Vec<String> },
    /// 400404: Calling Professional and Standard together.
    CallingProAndStandard { licenses: Vec<String> },
    /// 400413: two licences of one exclusive offer-code group.
    ExclusiveOfferCode {
        licenses: Vec<String>,
        group: &'static [&'static str],
    },
    /// R-CC-3: the supervisor role excludes the administrator roles.
    SupervisorWithAdmin,
    /// R-CC-1: the supervisor role needs a Contact Center Premium agent licence.
    SupervisorWithoutPremium,
    /// R-USER-15: the password policy.
    Password(PasswordProblem),
}

impl fmt::Display for RuleViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CallingNameTooLong { field } => write!(
                f,
                "{field} of a Webex Calling user must not exceed {CALLING_NAME_MAX} characters"
            ),
            Self::CallingNameForbiddenChar { field, ch } => write!(
                f,
                "{field} of a Webex Calling user must not contain the character '{ch}' (forbidden: % # < > \\ / \")"
            ),
            Self::CallingPropertiesMissing { licenses } => write!(
                f,
                "Each Webex Calling license should contain its own calling properties. The following license(s) do not have properties: {}",
                licenses.join(",")
            ),
            Self::CallingProAndStandard { licenses } => write!(
                f,
                "User cannot have both Webex Calling Professional and Standard License together. The following license(s) could not be applied as requested: {}",
                licenses.join(",")
            ),
            Self::ExclusiveOfferCode { licenses, group } => write!(
                f,
                "Could not apply the following license(s): {} as the user can be assigned only one of licenses with the offer code from the list: {}",
                licenses.join(","),
                group.join(",")
            ),
            Self::SupervisorWithAdmin => f.write_str(
                "A Contact Center supervisor cannot also hold an administrator role (full administrator, user administrator, Contact Center service administrator)",
            ),
            Self::SupervisorWithoutPremium => {
                f.write_str("The Contact Center supervisor role requires a Contact Center Premium Agent (CJPPRM) license")
            }
            Self::Password(p) => write!(f, "{p}"),
        }
    }
}

/// R-USER-2: the names of a Calling user. Absent names are fine (R-USER-1).
pub fn check_calling_names(first: Option<&str>, last: Option<&str>) -> Result<(), RuleViolation> {
    for (field, value) in [("firstName", first), ("lastName", last)] {
        let Some(value) = value else { continue };
        if value.chars().count() > CALLING_NAME_MAX {
            return Err(RuleViolation::CallingNameTooLong { field });
        }
        if let Some(ch) = value.chars().find(|c| CALLING_NAME_FORBIDDEN.contains(c)) {
            return Err(RuleViolation::CallingNameForbiddenChar { field, ch });
        }
    }
    Ok(())
}

/// Why a password is refused (R-USER-15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordProblem {
    Length,
    NoLowercase,
    NoUppercase,
    NoDigit,
    NoSpecial,
    ContainsName,
    ContainsEmail,
}

impl fmt::Display for PasswordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Length => "The password must be 8 to 256 characters long",
            Self::NoLowercase => "The password must contain a lower-case letter",
            Self::NoUppercase => "The password must contain an upper-case letter",
            Self::NoDigit => "The password must contain a digit",
            Self::NoSpecial => "The password must contain a special character (~!@#$%^&*()-_=+[]{}|;:,.<>/?)",
            Self::ContainsName => "The password must not contain your name",
            Self::ContainsEmail => "The password must not contain your email address",
        })
    }
}

/// R-USER-15: the password a user sets at first sign-in. Compares case-insensitively against the
/// first and last name and the email's local part. Simulator assumption: name parts shorter than
/// three characters are not searched for (a one-letter name would otherwise forbid that letter).
pub fn check_password(
    password: &str,
    first: Option<&str>,
    last: Option<&str>,
    email: &str,
) -> Result<(), PasswordProblem> {
    let len = password.chars().count();
    if !(8..=256).contains(&len) {
        return Err(PasswordProblem::Length);
    }
    if !password.chars().any(|c| c.is_lowercase()) {
        return Err(PasswordProblem::NoLowercase);
    }
    if !password.chars().any(|c| c.is_uppercase()) {
        return Err(PasswordProblem::NoUppercase);
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        return Err(PasswordProblem::NoDigit);
    }
    if !password.chars().any(|c| PASSWORD_SPECIALS.contains(c)) {
        return Err(PasswordProblem::NoSpecial);
    }
    let lower = password.to_lowercase();
    let contains = |part: &str| {
        let part = part.trim().to_lowercase();
        part.chars().count() >= PASSWORD_NAME_MIN && lower.contains(&part)
    };
    if first.is_some_and(contains) || last.is_some_and(contains) {
        return Err(PasswordProblem::ContainsName);
    }
    let local = email.split('@').next().unwrap_or(email);
    if contains(local) {
        return Err(PasswordProblem::ContainsEmail);
    }
    Ok(())
}

/// The calling properties of one licence add (PATCH `properties`, or the person's fields in POST).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallingProps<'a> {
    pub phone_number: Option<&'a str>,
    pub extension: Option<&'a str>,
    pub location_id: Option<&'a str>,
}

/// 400411: a phone number or an extension, and a location unless there is a phone number.
pub fn calling_properties_complete(props: CallingProps<'_>) -> bool {
    let present = |v: Option<&str>| v.is_some_and(|s| !s.trim().is_empty());
    (present(props.phone_number) || present(props.extension))
        && (present(props.phone_number) || present(props.location_id))
}

/// 400404 / 400413: the licences a user would hold after a change, as `(id, offer code)`.
pub fn check_license_exclusivity(held: &[(&str, &str)]) -> Result<(), RuleViolation> {
    let ids_with = |codes: &[&str]| -> Vec<String> {
        held.iter()
            .filter(|(_, code)| codes.contains(code))
            .map(|(id, _)| id.to_string())
            .collect()
    };
    let has = |code: &str| held.iter().any(|(_, c)| *c == code);
    if has(CALLING_PROFESSIONAL) && has(CALLING_STANDARD) {
        return Err(RuleViolation::CallingProAndStandard {
            licenses: ids_with(&[CALLING_PROFESSIONAL, CALLING_STANDARD]),
        });
    }
    for group in EXCLUSIVE_OFFER_GROUPS {
        let licenses = ids_with(group);
        if licenses.len() > 1 {
            return Err(RuleViolation::ExclusiveOfferCode { licenses, group });
        }
    }
    Ok(())
}

/// R-CC-3 / R-CC-1: role names (`id_cjp_supervisor`, ...) against held offer codes.
pub fn check_cc_roles(roles: &[&str], offer_codes: &[&str]) -> Result<(), RuleViolation> {
    use crate::sim::roles::{ADMIN_ROLES_EXCLUDED_BY_SUPERVISOR, CC_SUPERVISOR};
    if !roles.contains(&CC_SUPERVISOR) {
        return Ok(());
    }
    if roles.iter().any(|r| ADMIN_ROLES_EXCLUDED_BY_SUPERVISOR.contains(r)) {
        return Err(RuleViolation::SupervisorWithAdmin);
    }
    if !offer_codes.contains(&CC_PREMIUM) {
        return Err(RuleViolation::SupervisorWithoutPremium);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calling_names_accept_ordinary_and_absent_names() {
        assert_eq!(check_calling_names(Some("Anna-Lena"), Some("O'Brien van Dijk")), Ok(()));
        assert_eq!(check_calling_names(None, None), Ok(()));
        assert_eq!(check_calling_names(Some(&"a".repeat(30)), Some("Åsa Öberg")), Ok(()));
    }

    #[test]
    fn calling_names_refuse_every_forbidden_character_in_either_field() {
        for ch in CALLING_NAME_FORBIDDEN {
            let bad = format!("Ann{ch}a");
            assert_eq!(
                check_calling_names(Some(&bad), Some("Smith")),
                Err(RuleViolation::CallingNameForbiddenChar {
                    field: "firstName",
                    ch: *ch
                })
            );
            assert_eq!(
                check_calling_names(Some("Ann"), Some(&bad)),
                Err(RuleViolation::CallingNameForbiddenChar {
                    field: "lastName",
                    ch: *ch
                })
            );
        }
        // Semicolon is in no revision of the rule (webex-api-notes §7).
        assert_eq!(check_calling_names(Some("A;b"), None), Ok(()));
    }

    #[test]
    fn calling_names_refuse_more_than_thirty_characters_counting_chars_not_bytes() {
        assert_eq!(
            check_calling_names(Some(&"a".repeat(31)), None),
            Err(RuleViolation::CallingNameTooLong { field: "firstName" })
        );
        assert_eq!(
            check_calling_names(None, Some(&"b".repeat(31))),
            Err(RuleViolation::CallingNameTooLong { field: "lastName" })
        );
        assert_eq!(check_calling_names(Some(&"é".repeat(30)), None), Ok(()));
    }

    #[test]
    fn password_policy_each_requirement() {
        let ok = |p: &str| check_password(p, Some("Anna"), Some("Berg"), "anna.berg@acme.test");
        assert_eq!(ok("Xy7!qwerty"), Ok(()));
        assert_eq!(ok("Xy7!qwe"), Err(PasswordProblem::Length));
        assert_eq!(ok(&format!("Xy7!{}", "q".repeat(252))), Ok(()));
        assert_eq!(ok(&format!("Xy7!{}", "q".repeat(253))), Err(PasswordProblem::Length));
        assert_eq!(ok("XY7!QWERTY"), Err(PasswordProblem::NoLowercase));
        assert_eq!(ok("xy7!qwerty"), Err(PasswordProblem::NoUppercase));
        assert_eq!(ok("Xyz!qwerty"), Err(PasswordProblem::NoDigit));
        assert_eq!(ok("Xyz7qwerty"), Err(PasswordProblem::NoSpecial));
        for special in PASSWORD_SPECIALS.chars() {
            assert_eq!(ok(&format!("Xy7{special}qwerty")), Ok(()), "special {special}");
        }
        assert_eq!(
            ok("Xy7 qwerty"),
            Err(PasswordProblem::NoSpecial),
            "space is not special"
        );
    }

    #[test]
    fn password_must_not_contain_name_or_email_case_insensitively() {
        let check = |p: &str| check_password(p, Some("Anna"), Some("Berg"), "anna.berg@acme.test");
        assert_eq!(check("xANNAx7!Q"), Err(PasswordProblem::ContainsName));
        assert_eq!(check("Q7!bergqq"), Err(PasswordProblem::ContainsName));
        assert_eq!(
            check_password("Q7!Ann.Bergx", Some("Jo"), None, "ann.berg@x.test"),
            Err(PasswordProblem::ContainsEmail)
        );
        // Two-letter names are not searched for.
        assert_eq!(check_password("Jo7!qwerty", Some("Jo"), Some("Li"), "x@y.test"), Ok(()));
    }

    #[test]
    fn calling_properties_need_number_or_extension_and_location_without_number() {
        let p = |phone: Option<&'static str>, ext: Option<&'static str>, loc: Option<&'static str>| CallingProps {
            phone_number: phone,
            extension: ext,
            location_id: loc,
        };
        assert!(calling_properties_complete(p(Some("+14085550100"), None, None)));
        assert!(calling_properties_complete(p(None, Some("133"), Some("loc"))));
        assert!(calling_properties_complete(p(Some("+1"), Some("133"), Some("loc"))));
        assert!(!calling_properties_complete(p(None, Some("133"), None)));
        assert!(!calling_properties_complete(p(None, None, Some("loc"))));
        assert!(!calling_properties_complete(p(None, Some(" "), Some("loc"))));
        assert!(!calling_properties_complete(CallingProps::default()));
    }

    #[test]
    fn license_exclusivity() {
        assert_eq!(
            check_license_exclusivity(&[("a", "BCSTD"), ("b", "CJPPRM"), ("c", "MS")]),
            Ok(())
        );
        assert_eq!(
            check_license_exclusivity(&[("a", "BCSTD"), ("b", "BCPRO")]),
            Err(RuleViolation::CallingProAndStandard {
                licenses: vec!["a".into(), "b".into()]
            })
        );
        assert!(matches!(
            check_license_exclusivity(&[("s", "CJPSTD"), ("p", "CJPPRM")]),
            Err(RuleViolation::ExclusiveOfferCode { licenses, .. }) if licenses == ["s", "p"]
        ));
        // Two licences with the same offer code (two subscriptions) are also exclusive.
        assert!(check_license_exclusivity(&[("p1", "CJPPRM"), ("p2", "CJPPRM")]).is_err());
        assert_eq!(check_license_exclusivity(&[]), Ok(()));
    }

    #[test]
    fn contact_center_supervisor_rules() {
        assert_eq!(check_cc_roles(&["id_full_admin"], &[]), Ok(()));
        assert_eq!(check_cc_roles(&["id_cjp_supervisor"], &["CJPPRM"]), Ok(()));
        assert_eq!(
            check_cc_roles(&["id_cjp_supervisor"], &["CJPSTD"]),
            Err(RuleViolation::SupervisorWithoutPremium)
        );
        for admin in ["id_full_admin", "id_user_admin", "id_cjp_admin"] {
            assert_eq!(
                check_cc_roles(&["id_cjp_supervisor", admin], &["CJPPRM"]),
                Err(RuleViolation::SupervisorWithAdmin)
            );
        }
        assert_eq!(
            check_cc_roles(&["id_cjp_supervisor", "id_readonly_admin"], &["CJPPRM"]),
            Ok(())
        );
    }

    #[test]
    fn calling_offer_codes() {
        assert!(is_calling_offer("BCSTD"));
        assert!(is_calling_offer("BCPRO"));
        assert!(!is_calling_offer("CJPPRM"));
        assert!(!is_calling_offer("EE"));
    }
}
