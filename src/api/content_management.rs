//! Enterprise content management (R-USER-9) in the WebexUser and WebexOrg types.

use serde::{Deserialize, Serialize};

// The conversions from and to the wire's types live in `controller::webex_user::content_management`
// (the API types depend on nothing else of the crate).

/// Enterprise content management of the user (R-USER-9): `Microsoft` (OneDrive/SharePoint),
/// `Box`, `GoogleDrive`, or `None` (no third-party platform, Webex native storage only). Under
/// general access the org assigns its platform to every user: name that platform or leave the
/// field out. Unset: not managed. Webex has no public API for it: with `backend: Webex` a
/// condition tells the admin what to choose in Control Hub.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    strum::IntoStaticStr,
)]
pub enum ContentManagement {
    /// Microsoft OneDrive / SharePoint Online.
    Microsoft,
    /// Box.
    Box,
    /// Google Drive.
    GoogleDrive,
    /// No third-party platform: Webex native storage only.
    #[serde(rename = "None")]
    #[strum(serialize = "None")]
    WebexNativeOnly,
}

/// Where a user's content management comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr)]
pub enum ContentManagementSource {
    /// The org uses general access: every user gets the org's platform automatically.
    GeneralAccess,
    /// Chosen for this user (limited access).
    PerUser,
    /// Nobody chose anything (limited access): Webex native storage only.
    OrgDefault,
}

/// A user's content management as Webex reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserContentManagementStatus {
    /// `Microsoft`, `Box`, `GoogleDrive` or `None` (Webex native storage only).
    pub platform: ContentManagement,
    /// `GeneralAccess`, `PerUser` or `OrgDefault`.
    pub source: ContentManagementSource,
}

/// How the org hands out content management (R-USER-9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ContentManagementAccess {
    /// Every user gets the org's platform automatically.
    General,
    /// Chosen per user.
    Limited,
}

/// The org's content management, when the backend can tell (the simulator; Webex has no public
/// API for it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrgContentManagementStatus {
    /// `General` or `Limited`.
    pub access: ContentManagementAccess,
    /// Third-party platforms the org enabled; Webex native storage is always available.
    #[serde(default)]
    pub platforms: Vec<ContentManagement>,
}
