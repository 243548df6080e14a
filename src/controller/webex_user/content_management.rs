//! Pure decisions about a user's enterprise content management (R-USER-9: "assigned
//! automatically when the org uses general access; otherwise chosen per user").
//!
//! From the spec's wish, the org's configuration and what the person has now: nothing to do, a
//! per-user assignment, or a block with a reason the admin can act on. Webex has no public API
//! for any of it: against the real service the admin is told what to choose in Control Hub
//! (condition [`CONTENT_MANAGEMENT`], one Warning Event), and Ready is not affected.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use crate::api::conditions::ConditionUpdate;
use crate::api::content_management::{
    ContentManagement, ContentManagementAccess, ContentManagementSource, UserContentManagementStatus,
};
use crate::webex::content_management::{
    AssignedBy, ContentAccess, ContentPlatform, OrgContentManagement, PersonContentManagement,
};

use super::plan::UserReason;

// The CRD's names of the wire's content-management values (both ways).

impl ContentManagement {
    pub fn platform(self) -> ContentPlatform {
        match self {
            Self::Microsoft => ContentPlatform::Microsoft,
            Self::Box => ContentPlatform::Box,
            Self::GoogleDrive => ContentPlatform::GoogleDrive,
            Self::WebexNativeOnly => ContentPlatform::WebexNative,
        }
    }

    pub fn of(platform: ContentPlatform) -> Self {
        match platform {
            ContentPlatform::Microsoft => Self::Microsoft,
            ContentPlatform::Box => Self::Box,
            ContentPlatform::GoogleDrive => Self::GoogleDrive,
            ContentPlatform::WebexNative => Self::WebexNativeOnly,
        }
    }
}

impl From<AssignedBy> for ContentManagementSource {
    fn from(by: AssignedBy) -> Self {
        match by {
            AssignedBy::GeneralAccess => Self::GeneralAccess,
            AssignedBy::PerUser => Self::PerUser,
            AssignedBy::OrgDefault => Self::OrgDefault,
        }
    }
}

impl From<ContentAccess> for ContentManagementAccess {
    fn from(access: ContentAccess) -> Self {
        match access {
            ContentAccess::General => Self::General,
            ContentAccess::Limited => Self::Limited,
        }
    }
}

/// Condition type that reports the user's content management.
pub const CONTENT_MANAGEMENT: &str = "ContentManagementAssigned";

/// Condition reason against the real service: the admin must choose in Control Hub.
pub const ASSIGN_IN_CONTROL_HUB: &str = "AssignInControlHub";

/// What the content-management step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The person has what the spec asks for (or the spec does not ask).
    Satisfied,
    /// Choose this platform for the person (limited access).
    Assign(ContentPlatform),
    /// The spec cannot hold in this org; no write.
    Blocked { reason: UserReason, message: String },
}

/// "Box" / "None (Webex native storage only)" as the spec spells it, with the Control Hub name.
pub fn spec_name(platform: ContentPlatform) -> String {
    let value: &'static str = ContentManagement::of(platform).into();
    match platform {
        ContentPlatform::WebexNative | ContentPlatform::Microsoft => format!("{value} ({})", platform.label()),
        ContentPlatform::Box | ContentPlatform::GoogleDrive => value.to_string(),
    }
}

/// The decision for one user. `desired` is `spec.contentManagement` (`None`: not managed).
pub fn decide(
    desired: Option<ContentManagement>,
    org: &OrgContentManagement,
    observed: &PersonContentManagement,
) -> Decision {
    let Some(desired) = desired.map(ContentManagement::platform) else {
        return Decision::Satisfied;
    };
    match org.access {
        // R-USER-9: under general access the org assigns its platform to every user; there is
        // nothing to choose per user, and nothing else can be chosen.
        ContentAccess::General => {
            let general = org.general_platform().unwrap_or(ContentPlatform::WebexNative);
            if desired == general {
                Decision::Satisfied
            } else {
                Decision::Blocked {
                    reason: UserReason::ContentManagementGeneralAccess,
                    message: format!(
                        "the org uses general access for enterprise content management and assigns {} to every user (R-USER-9); spec.contentManagement asks for {}: switch the org to limited access in Control Hub, or set spec.contentManagement to {} or drop it",
                        spec_name(general),
                        spec_name(desired),
                        <&str>::from(ContentManagement::of(general)),
                    ),
                }
            }
        }
        // R-USER-9: under limited access the option is chosen per user.
        ContentAccess::Limited => {
            if !org.offers(desired) {
                let offered: Vec<String> = org.options().into_iter().map(spec_name).collect();
                return Decision::Blocked {
                    reason: UserReason::ContentManagementNotOffered,
                    message: format!(
                        "enterprise content management {} is not enabled in the org (R-USER-9); it offers: {}. Enable the platform in Control Hub or choose one of these",
                        spec_name(desired),
                        offered.join(", ")
                    ),
                };
            }
            if observed.platform == desired && observed.assigned_by != AssignedBy::GeneralAccess {
                Decision::Satisfied
            } else {
                Decision::Assign(desired)
            }
        }
    }
}

/// The status field from what the backend reports.
pub fn status_of(observed: &PersonContentManagement) -> UserContentManagementStatus {
    UserContentManagementStatus {
        platform: ContentManagement::of(observed.platform),
        source: observed.assigned_by.into(),
    }
}

/// The condition for a user whose content management holds.
pub fn satisfied_condition(observed: &PersonContentManagement) -> ConditionUpdate {
    let source = ContentManagementSource::from(observed.assigned_by);
    let how = match source {
        ContentManagementSource::GeneralAccess => "assigned automatically by the org's general access",
        ContentManagementSource::PerUser => "chosen for this user (limited access)",
        ContentManagementSource::OrgDefault => "nothing chosen: the org's default",
    };
    ConditionUpdate::new(
        CONTENT_MANAGEMENT,
        true,
        source.into(),
        format!("{}: {how} (R-USER-9)", spec_name(observed.platform)),
    )
}

/// The condition for a block (the same reason and message as Ready).
pub fn blocked_condition(reason: UserReason, message: &str) -> ConditionUpdate {
    ConditionUpdate::new(CONTENT_MANAGEMENT, false, reason.into(), message)
}

/// What the admin is told against the real service, which has no API for it.
pub fn control_hub_message(email: &str, desired: ContentManagement) -> String {
    format!(
        "Webex has no public API for enterprise content management (R-USER-9): in Control Hub, if the org uses general access the user gets the org's platform automatically; with limited access open Users, select {email} and choose {} as the user's content management",
        spec_name(desired.platform())
    )
}

/// The condition against the real service (Ready is not affected).
pub fn control_hub_condition(email: &str, desired: ContentManagement) -> ConditionUpdate {
    ConditionUpdate::new(
        CONTENT_MANAGEMENT,
        false,
        ASSIGN_IN_CONTROL_HUB,
        control_hub_message(email, desired),
    )
}

/// Whether the last verdict was one of this step's blocks: a write needed after the admin fixed
/// the org in Control Hub is then work left over, not drift.
pub fn was_blocked_here(previous_ready_reason: Option<&str>) -> bool {
    let ours = [
        <&str>::from(UserReason::ContentManagementGeneralAccess),
        <&str>::from(UserReason::ContentManagementNotOffered),
    ];
    previous_ready_reason.is_some_and(|r| ours.contains(&r))
}

/// Conditions without this step's (the spec stopped managing content management).
pub fn forget(existing: &[Condition]) -> Vec<Condition> {
    existing
        .iter()
        .filter(|c| c.type_ != CONTENT_MANAGEMENT)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::conditions;

    use ContentManagement as Spec;
    use ContentPlatform as P;

    fn org(access: ContentAccess, platforms: &[ContentPlatform]) -> OrgContentManagement {
        OrgContentManagement {
            access,
            platforms: platforms.to_vec(),
        }
    }

    fn has(platform: ContentPlatform, assigned_by: AssignedBy) -> PersonContentManagement {
        PersonContentManagement {
            person_id: "P".into(),
            platform,
            assigned_by,
            updates: 0,
        }
    }

    fn blocked_reason(d: &Decision) -> Option<UserReason> {
        match d {
            Decision::Blocked { reason, .. } => Some(*reason),
            _ => None,
        }
    }

    const ALL_SPECS: [Spec; 4] = [Spec::Microsoft, Spec::Box, Spec::GoogleDrive, Spec::WebexNativeOnly];
    const ALL_SOURCES: [AssignedBy; 3] = [AssignedBy::GeneralAccess, AssignedBy::PerUser, AssignedBy::OrgDefault];
    const ALL_PLATFORMS: [P; 4] = [P::Microsoft, P::Box, P::GoogleDrive, P::WebexNative];

    #[test]
    fn unset_spec_is_not_managed_whatever_the_org_does() {
        for access in [ContentAccess::General, ContentAccess::Limited] {
            for observed in ALL_PLATFORMS {
                for by in ALL_SOURCES {
                    assert_eq!(
                        decide(None, &org(access, &[P::Box]), &has(observed, by)),
                        Decision::Satisfied
                    );
                }
            }
        }
    }

    #[test]
    fn r_user_9_general_access_satisfies_the_org_platform_and_blocks_anything_else() {
        for general in [P::Microsoft, P::Box, P::GoogleDrive] {
            let o = org(ContentAccess::General, &[general]);
            for spec in ALL_SPECS {
                for by in ALL_SOURCES {
                    let d = decide(Some(spec), &o, &has(general, by));
                    if spec.platform() == general {
                        assert_eq!(d, Decision::Satisfied, "{spec:?} under general {general:?}");
                    } else {
                        assert_eq!(
                            blocked_reason(&d),
                            Some(UserReason::ContentManagementGeneralAccess),
                            "{spec:?} under general {general:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn r_user_9_general_access_conflict_says_what_to_do() {
        let d = decide(
            Some(Spec::Box),
            &org(ContentAccess::General, &[P::Microsoft]),
            &has(P::Microsoft, AssignedBy::GeneralAccess),
        );
        let Decision::Blocked { message, .. } = d else {
            panic!("expected a block, got {d:?}");
        };
        assert!(message.contains("general access"), "{message}");
        assert!(
            message.contains("Microsoft (Microsoft OneDrive/SharePoint) to every user"),
            "{message}"
        );
        assert!(message.contains("asks for Box"), "{message}");
        assert!(
            message.contains("switch the org to limited access in Control Hub"),
            "{message}"
        );
        assert!(message.contains("R-USER-9"), "{message}");
    }

    #[test]
    fn r_user_9_limited_access_assigns_when_different_and_only_then() {
        let o = org(ContentAccess::Limited, &[P::Microsoft, P::Box, P::GoogleDrive]);
        for spec in ALL_SPECS {
            for observed in ALL_PLATFORMS {
                for by in ALL_SOURCES {
                    let d = decide(Some(spec), &o, &has(observed, by));
                    let holds = observed == spec.platform() && by != AssignedBy::GeneralAccess;
                    let expected = if holds {
                        Decision::Satisfied
                    } else {
                        Decision::Assign(spec.platform())
                    };
                    assert_eq!(d, expected, "{spec:?} with {observed:?} by {by:?}");
                }
            }
        }
    }

    #[test]
    fn webex_native_only_needs_no_write_when_nothing_was_chosen() {
        let o = org(ContentAccess::Limited, &[]);
        assert_eq!(
            decide(
                Some(Spec::WebexNativeOnly),
                &o,
                &has(P::WebexNative, AssignedBy::OrgDefault)
            ),
            Decision::Satisfied
        );
        assert_eq!(
            decide(Some(Spec::WebexNativeOnly), &o, &has(P::Box, AssignedBy::PerUser)),
            Decision::Assign(P::WebexNative)
        );
    }

    #[test]
    fn r_user_9_a_platform_the_org_has_not_enabled_is_not_offered() {
        let o = org(ContentAccess::Limited, &[P::Box]);
        for spec in [Spec::Microsoft, Spec::GoogleDrive] {
            for by in ALL_SOURCES {
                let d = decide(Some(spec), &o, &has(P::Box, by));
                assert_eq!(blocked_reason(&d), Some(UserReason::ContentManagementNotOffered));
                let Decision::Blocked { message, .. } = d else {
                    unreachable!()
                };
                assert!(
                    message.contains("it offers: Box, None (Webex native storage only)"),
                    "{message}"
                );
            }
        }
        let nothing = org(ContentAccess::Limited, &[]);
        let Decision::Blocked { message, .. } =
            decide(Some(Spec::Box), &nothing, &has(P::WebexNative, AssignedBy::OrgDefault))
        else {
            panic!("expected a block");
        };
        assert!(
            message.contains("it offers: None (Webex native storage only)"),
            "{message}"
        );
    }

    #[test]
    fn status_and_conditions_say_where_it_came_from() {
        let general = has(P::Box, AssignedBy::GeneralAccess);
        assert_eq!(
            status_of(&general),
            UserContentManagementStatus {
                platform: Spec::Box,
                source: ContentManagementSource::GeneralAccess
            }
        );
        let c = satisfied_condition(&general);
        assert!(c.status);
        assert_eq!(c.reason, "GeneralAccess");
        assert!(c.message.contains("general access"), "{}", c.message);
        let per_user = satisfied_condition(&has(P::WebexNative, AssignedBy::PerUser));
        assert_eq!(per_user.reason, "PerUser");
        assert!(per_user.message.starts_with("None (Webex native storage only)"));
        let blocked = blocked_condition(UserReason::ContentManagementNotOffered, "m");
        assert!(!blocked.status);
        assert_eq!(blocked.reason, "ContentManagementNotOffered");
    }

    #[test]
    fn the_real_service_gets_a_control_hub_instruction_announced_once() {
        let update = control_hub_condition("ada@acme.test", Spec::GoogleDrive);
        assert!(!update.status);
        assert_eq!(update.reason, ASSIGN_IN_CONTROL_HUB);
        assert!(update.message.contains("no public API"), "{}", update.message);
        assert!(
            update.message.contains("select ada@acme.test and choose GoogleDrive"),
            "{}",
            update.message
        );
        assert!(conditions::is_news(&[], &update));
        let now = jiff::Timestamp::now();
        let existing = conditions::merge(&[], std::slice::from_ref(&update), Some(1), now);
        assert!(!conditions::is_news(&existing, &update));
        assert!(conditions::is_news(
            &existing,
            &control_hub_condition("ada@acme.test", Spec::Box)
        ));
        assert!(forget(&existing).is_empty());
    }

    #[test]
    fn a_write_after_this_step_blocked_is_not_drift() {
        assert!(was_blocked_here(Some("ContentManagementNotOffered")));
        assert!(was_blocked_here(Some("ContentManagementGeneralAccess")));
        assert!(!was_blocked_here(Some("Active")));
        assert!(!was_blocked_here(None));
    }
}
