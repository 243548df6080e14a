//! Webex Calling person settings (R-USER-16), the Contact Center "synchronise users" step
//! (R-CC-6) and Meetings tracking codes (R-USER-8): wire paths and client calls.
//!
//! Person settings live on two path families of the Calling API (as in the public `wxc_sdk`
//! `person_settings` modules): `/v1/people/{personId}/features/{feature}` and, for newer
//! features, `/v1/telephony/config/people/{personId}/{feature}`. Each is read with GET and
//! written with a PUT that may carry only some fields (204 No Content).
//!
//! Simultaneous ring, sequential ring and priority alert have no admin endpoint for people: the
//! public API has them only for workspaces and for the user's own token
//! (`/telephony/config/people/me/settings/...`), and the person paths answer 404. Control Hub
//! sets them, so they are "Control Hub only" (design §3): the client refuses them against the
//! real service with [`WebexError::NotAvailableInPublicApi`], and the simulator offers them
//! under its Control Hub stand-in prefix `/_sim/hub/`.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::client::{Idempotency, WebexClient};
use super::error::WebexError;

/// One person-level Calling feature the operator can manage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, strum::IntoStaticStr, strum::EnumIter)]
pub enum CallingFeature {
    DoNotDisturb,
    CallForwarding,
    CallWaiting,
    BargeIn,
    AnonymousCallReject,
    SingleNumberReach,
    Hoteling,
    CallerId,
    Voicemail,
    ExecutiveAssistant,
    SelectiveAccept,
    SelectiveReject,
    SelectiveForward,
    SimultaneousRing,
    SequentialRing,
    PriorityAlert,
}

/// Where a feature lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureFamily {
    /// `/v1/people/{personId}/features/{feature}`.
    PeopleFeatures,
    /// `/v1/telephony/config/people/{personId}/{feature}`.
    TelephonyConfig,
    /// No admin endpoint: Control Hub only (the simulator's `/_sim/hub/people/{personId}/calling/{feature}`).
    ControlHubOnly,
}

impl CallingFeature {
    /// The feature's name in its URL.
    pub fn slug(self) -> &'static str {
        match self {
            Self::DoNotDisturb => "doNotDisturb",
            Self::CallForwarding => "callForwarding",
            Self::CallWaiting => "callWaiting",
            Self::BargeIn => "bargeIn",
            Self::AnonymousCallReject => "anonymousCallReject",
            Self::SingleNumberReach => "singleNumberReach",
            Self::Hoteling => "hoteling",
            Self::CallerId => "callerId",
            Self::Voicemail => "voicemail",
            Self::ExecutiveAssistant => "executiveAssistant",
            Self::SelectiveAccept => "selectiveAccept",
            Self::SelectiveReject => "selectiveReject",
            Self::SelectiveForward => "selectiveForward",
            Self::SimultaneousRing => "simultaneousRing",
            Self::SequentialRing => "sequentialRing",
            Self::PriorityAlert => "priorityAlert",
        }
    }

    pub fn family(self) -> FeatureFamily {
        match self {
            Self::AnonymousCallReject
            | Self::SingleNumberReach
            | Self::SelectiveAccept
            | Self::SelectiveReject
            | Self::SelectiveForward => FeatureFamily::TelephonyConfig,
            Self::SimultaneousRing | Self::SequentialRing | Self::PriorityAlert => FeatureFamily::ControlHubOnly,
            _ => FeatureFamily::PeopleFeatures,
        }
    }

    /// Whether Webex's public API can read and write the feature with an admin token.
    pub fn in_public_api(self) -> bool {
        self.family() != FeatureFamily::ControlHubOnly
    }

    /// The path (without the API root) of this feature of one person.
    pub fn path(self, person_id: &str) -> String {
        match self.family() {
            FeatureFamily::PeopleFeatures => format!("v1/people/{person_id}/features/{}", self.slug()),
            FeatureFamily::TelephonyConfig => format!("v1/telephony/config/people/{person_id}/{}", self.slug()),
            FeatureFamily::ControlHubOnly => format!("_sim/hub/people/{person_id}/calling/{}", self.slug()),
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        use strum::IntoEnumIterator;
        Self::iter().find(|f| f.slug() == slug)
    }
}

/// One Meetings tracking code value of a user (SPEC-MTG `userconfig/trackingCodes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserTrackingCode {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub value: String,
}

/// The tracking codes of one user on one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserTrackingCodes {
    pub site_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default)]
    pub tracking_codes: Vec<UserTrackingCode>,
}

impl WebexClient {
    /// Reads one Calling feature of a person. `simulator` allows the Control Hub only features
    /// (the simulator's stand-in); without it they are [`WebexError::NotAvailableInPublicApi`].
    pub async fn get_calling_feature(
        &self,
        person_id: &str,
        feature: CallingFeature,
        simulator: bool,
    ) -> Result<serde_json::Value, WebexError> {
        Self::reachable(feature, simulator)?;
        self.get_json(&feature.path(person_id), &[]).await
    }

    /// Writes some fields of one Calling feature of a person (PUT, 204). Idempotent.
    pub async fn put_calling_feature(
        &self,
        person_id: &str,
        feature: CallingFeature,
        body: &serde_json::Value,
        simulator: bool,
    ) -> Result<(), WebexError> {
        Self::reachable(feature, simulator)?;
        let url = self.url(&feature.path(person_id))?;
        self.send_raw(Method::PUT, url, Some(body), Idempotency::Idempotent)
            .await
            .map(|_| ())
    }

    fn reachable(feature: CallingFeature, simulator: bool) -> Result<(), WebexError> {
        if feature.in_public_api() || simulator {
            Ok(())
        } else {
            Err(WebexError::NotAvailableInPublicApi {
                operation: "simultaneous ring, sequential ring and priority alert of a person",
            })
        }
    }

    /// The Contact Center "Synchronise users" step (R-CC-6). The public API has none (Control
    /// Hub > Contact Center > Settings > Synchronize Users); `simulator` enables the simulator's
    /// own endpoint.
    pub async fn synchronize_contact_center_users(&self, org_id: &str, simulator: bool) -> Result<(), WebexError> {
        if !simulator {
            return Err(WebexError::NotAvailableInPublicApi {
                operation: "synchronising users to Contact Center",
            });
        }
        let url = self.url(&format!("_sim/hub/orgs/{org_id}/contact-center/synchronize-users"))?;
        self.send_raw(Method::POST, url, None::<&()>, Idempotency::Idempotent)
            .await
            .map(|_| ())
    }

    /// A user's tracking code values on one Meetings site (R-USER-8).
    pub async fn get_user_tracking_codes(
        &self,
        site_url: &str,
        person_id: &str,
    ) -> Result<UserTrackingCodes, WebexError> {
        self.get_json(
            "v1/admin/meeting/userconfig/trackingCodes",
            &[("siteUrl", site_url), ("personId", person_id)],
        )
        .await
    }

    /// Sets a user's tracking code values on one Meetings site (PUT replaces the named codes).
    pub async fn put_user_tracking_codes(&self, body: &UserTrackingCodes) -> Result<UserTrackingCodes, WebexError> {
        let url = self.url("v1/admin/meeting/userconfig/trackingCodes")?;
        self.send_json(Method::PUT, url, Some(body), Idempotency::Idempotent)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_two_families() {
        assert_eq!(
            CallingFeature::DoNotDisturb.path("P1"),
            "v1/people/P1/features/doNotDisturb"
        );
        assert_eq!(
            CallingFeature::AnonymousCallReject.path("P1"),
            "v1/telephony/config/people/P1/anonymousCallReject"
        );
        assert_eq!(
            CallingFeature::SingleNumberReach.path("P1"),
            "v1/telephony/config/people/P1/singleNumberReach"
        );
        assert_eq!(CallingFeature::Voicemail.path("P1"), "v1/people/P1/features/voicemail");
        assert_eq!(
            CallingFeature::SimultaneousRing.path("P1"),
            "_sim/hub/people/P1/calling/simultaneousRing"
        );
        assert_eq!(
            CallingFeature::SelectiveReject.path("P1"),
            "v1/telephony/config/people/P1/selectiveReject"
        );
        assert!(!CallingFeature::PriorityAlert.in_public_api());
        assert!(CallingFeature::ExecutiveAssistant.in_public_api());
        assert_eq!(CallingFeature::from_slug("callerId"), Some(CallingFeature::CallerId));
        assert_eq!(
            CallingFeature::from_slug("sequentialRing"),
            Some(CallingFeature::SequentialRing)
        );
        assert_eq!(CallingFeature::from_slug("speedDials"), None);
    }

    #[test]
    fn control_hub_only_features_are_refused_against_the_real_service() {
        assert!(matches!(
            WebexClient::reachable(CallingFeature::SequentialRing, false),
            Err(WebexError::NotAvailableInPublicApi { .. })
        ));
        assert!(WebexClient::reachable(CallingFeature::SequentialRing, true).is_ok());
        assert!(WebexClient::reachable(CallingFeature::Voicemail, false).is_ok());
    }
}
