//! Enterprise content management (R-USER-9): wire shapes and client calls.
//!
//! In Control Hub the org enables content-management platforms (Microsoft OneDrive/SharePoint,
//! Box, Google Drive; Webex native storage is always there) and chooses the access: *general
//! access* (every user gets the org's platform automatically) or *limited access* (the admin
//! picks an option per user). Webex has no public API for any of it, so against the real
//! service every call here answers [`WebexError::NotAvailableInPublicApi`]; with `simulator`
//! they use the simulator-only endpoints (`sim::content_management`):
//!
//! - `GET /_sim/hub/orgs/{orgId}/content-management`: the org's access and platforms;
//! - `GET /_sim/hub/people/{personId}/content-management`: what the person has and why;
//! - `PUT /_sim/hub/people/{personId}/content-management`: the per-user choice (limited access).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::client::{Idempotency, WebexClient};
use super::error::WebexError;

/// A content-management option a user can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "camelCase")]
pub enum ContentPlatform {
    /// Microsoft OneDrive / SharePoint Online.
    Microsoft,
    Box,
    GoogleDrive,
    /// Webex native storage only: always available, no third-party platform.
    WebexNative,
}

impl ContentPlatform {
    /// The name Control Hub shows.
    pub fn label(self) -> &'static str {
        match self {
            Self::Microsoft => "Microsoft OneDrive/SharePoint",
            Self::Box => "Box",
            Self::GoogleDrive => "Google Drive",
            Self::WebexNative => "Webex native storage only",
        }
    }
}

/// How the org hands out content management.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "camelCase")]
pub enum ContentAccess {
    /// Every user gets the org's platform automatically (R-USER-9).
    General,
    /// The admin chooses per user (R-USER-9).
    #[default]
    Limited,
}

/// The org's content-management configuration, as an admin sets it in Control Hub.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgContentManagement {
    pub access: ContentAccess,
    /// The third-party platforms the org enabled (Webex native storage is always available and
    /// not listed). General access needs exactly one.
    #[serde(default)]
    pub platforms: Vec<ContentPlatform>,
}

impl OrgContentManagement {
    /// The platform general access gives every user; `None` under limited access.
    pub fn general_platform(&self) -> Option<ContentPlatform> {
        match self.access {
            ContentAccess::General => Some(self.platforms.first().copied().unwrap_or(ContentPlatform::WebexNative)),
            ContentAccess::Limited => None,
        }
    }

    /// Whether a user may be given `platform` (Webex native storage always can).
    pub fn offers(&self, platform: ContentPlatform) -> bool {
        platform == ContentPlatform::WebexNative || self.platforms.contains(&platform)
    }

    /// Every option a user can be given, Webex native storage last.
    pub fn options(&self) -> Vec<ContentPlatform> {
        let mut out: Vec<ContentPlatform> = self
            .platforms
            .iter()
            .copied()
            .filter(|p| *p != ContentPlatform::WebexNative)
            .collect();
        out.push(ContentPlatform::WebexNative);
        out
    }
}

/// Why a person has what they have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "camelCase")]
pub enum AssignedBy {
    /// General access gave it to every user of the org.
    GeneralAccess,
    /// An admin chose it for this user (limited access).
    PerUser,
    /// Nobody chose anything: Webex native storage only.
    OrgDefault,
}

/// `GET /_sim/hub/people/{personId}/content-management`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonContentManagement {
    pub person_id: String,
    pub platform: ContentPlatform,
    pub assigned_by: AssignedBy,
    /// How often a per-user choice was written for the person (simulator bookkeeping, for
    /// tests that check that general access needs no per-user write).
    #[serde(default)]
    pub updates: u32,
}

/// `PUT /_sim/hub/people/{personId}/content-management`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentManagementChoice {
    pub platform: ContentPlatform,
}

impl WebexClient {
    /// The org's content-management access and platforms (R-USER-9). No public API;
    /// `simulator` enables the simulator-only endpoint.
    pub async fn org_content_management(
        &self,
        org_id: &str,
        simulator: bool,
    ) -> Result<OrgContentManagement, WebexError> {
        if !simulator {
            return Err(WebexError::NotAvailableInPublicApi {
                operation: "reading the org's enterprise content management",
            });
        }
        self.get_json(&format!("_sim/hub/orgs/{org_id}/content-management"), &[])
            .await
    }

    /// What content management a person has and why (R-USER-9), simulator only.
    pub async fn person_content_management(
        &self,
        person_id: &str,
        simulator: bool,
    ) -> Result<PersonContentManagement, WebexError> {
        if !simulator {
            return Err(WebexError::NotAvailableInPublicApi {
                operation: "reading a user's enterprise content management",
            });
        }
        self.get_json(&format!("_sim/hub/people/{person_id}/content-management"), &[])
            .await
    }

    /// Chooses a person's content management (limited access, R-USER-9), simulator only.
    /// Idempotent: the same choice twice is the same state.
    pub async fn set_person_content_management(
        &self,
        person_id: &str,
        platform: ContentPlatform,
        simulator: bool,
    ) -> Result<PersonContentManagement, WebexError> {
        if !simulator {
            return Err(WebexError::NotAvailableInPublicApi {
                operation: "assigning a user's enterprise content management",
            });
        }
        let url = self.url(&format!("_sim/hub/people/{person_id}/content-management"))?;
        self.send_json(
            Method::PUT,
            url,
            Some(&ContentManagementChoice { platform }),
            Idempotency::Idempotent,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_camel_case() {
        let org = OrgContentManagement {
            access: ContentAccess::General,
            platforms: vec![ContentPlatform::GoogleDrive],
        };
        assert_eq!(
            serde_json::to_value(&org).unwrap(),
            serde_json::json!({"access": "general", "platforms": ["googleDrive"]})
        );
        let person: PersonContentManagement = serde_json::from_value(serde_json::json!(
            {"personId": "P", "platform": "webexNative", "assignedBy": "orgDefault"}
        ))
        .unwrap();
        assert_eq!(person.platform, ContentPlatform::WebexNative);
        assert_eq!(person.updates, 0);
    }

    #[test]
    fn offers_and_options_always_include_webex_native() {
        let org = OrgContentManagement {
            access: ContentAccess::Limited,
            platforms: vec![ContentPlatform::Box],
        };
        assert!(org.offers(ContentPlatform::WebexNative));
        assert!(org.offers(ContentPlatform::Box));
        assert!(!org.offers(ContentPlatform::Microsoft));
        assert_eq!(org.options(), vec![ContentPlatform::Box, ContentPlatform::WebexNative]);
        assert_eq!(org.general_platform(), None);
        let general = OrgContentManagement {
            access: ContentAccess::General,
            platforms: vec![ContentPlatform::Microsoft],
        };
        assert_eq!(general.general_platform(), Some(ContentPlatform::Microsoft));
    }
}
