//! Person-level Webex Calling settings of a `WebexUser` (R-USER-16) and the Meetings tracking
//! codes (R-USER-8). Every field is optional: a field left out is not managed, and whatever the
//! user or an admin set in Webex stays as it is.
//!
//! Field names are those of the Webex Calling person-settings API, so that a managed part of
//! the spec is the body of the partial PUT that sets it.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The calling settings User Hub shows for a Calling user (R-USER-16). Needs a Calling licence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallingSettings {
    /// Do not disturb: incoming calls get busy treatment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub do_not_disturb: Option<DoNotDisturb>,
    /// Call forwarding: always, when busy, when not answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_forwarding: Option<CallForwarding>,
    /// Call waiting: a second call can be answered while on a call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_waiting: Option<Toggle>,
    /// Barge-in: others with a shared line may join the user's calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barge_in: Option<BargeIn>,
    /// Anonymous call rejection: calls from blocked or unidentified caller ids are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_call_rejection: Option<Toggle>,
    /// Single number reach: calls also ring the user's other numbers. The numbers themselves are
    /// not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_number_reach: Option<SingleNumberReach>,
    /// Hoteling: the user may sign in to (host) a hoteling phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hoteling: Option<Toggle>,
    /// Caller ID blocking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_id_blocking: Option<CallerIdBlocking>,
    /// Simultaneous ring: calls ring up to 10 other numbers at the same time. Webex has no admin
    /// API for it (only the user's own); against the real service the admin is told to set it in
    /// Control Hub. Schedules (criteria) are not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simultaneous_ring: Option<SimultaneousRing>,
    /// Sequential ring: calls ring up to 5 other numbers one after another. Control Hub only, as
    /// simultaneous ring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequential_ring: Option<SequentialRing>,
    /// Priority alert: a distinctive ring for calls that match the user's criteria. Control Hub
    /// only, as simultaneous ring; the criteria themselves are not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_alert: Option<Toggle>,
    /// Voicemail: when calls go to voicemail, and an email copy of each message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail: Option<Voicemail>,
    /// Selective accept: only calls matching the user's criteria ring. The criteria (schedules,
    /// numbers) are not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selective_accept: Option<Toggle>,
    /// Selective reject: calls matching the user's criteria are refused. The criteria are not
    /// managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selective_reject: Option<Toggle>,
    /// Selective forward: calls matching the user's criteria are forwarded. The criteria are not
    /// managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selective_forward: Option<SelectiveForward>,
    /// Executive / executive assistant role of the user. Who assists whom is not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executive_assistant: Option<ExecutiveAssistant>,
}

impl CallingSettings {
    /// True when no setting is managed.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// A setting that is only on or off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Toggle {
    /// On or off; unset: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// Do not disturb.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DoNotDisturb {
    /// Do not disturb on or off; unset: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// A short ring reminds the user of calls that do not ring through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_splash_enabled: Option<bool>,
}

/// Call forwarding; each case is managed on its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallForwarding {
    /// Forward every call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub always: Option<ForwardAlways>,
    /// Forward when the user is on a call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy: Option<ForwardBusy>,
    /// Forward when the call is not answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_answer: Option<ForwardNoAnswer>,
}

/// Forward every call. Enabling needs a destination (in the spec or already in Webex).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ForwardAlways {
    /// Forward every call; unset: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Number or extension to forward to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\+?[0-9*#]{2,30}$"))]
    pub destination: Option<String>,
    /// Play a short tone on the user's phone when a call is forwarded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_reminder_enabled: Option<bool>,
    /// Send forwarded calls to the destination's voicemail (internal destinations only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_voicemail_enabled: Option<bool>,
}

/// Forward when busy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ForwardBusy {
    /// Forward when busy; unset: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Number or extension to forward to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\+?[0-9*#]{2,30}$"))]
    pub destination: Option<String>,
    /// Send forwarded calls to the destination's voicemail (internal destinations only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_voicemail_enabled: Option<bool>,
}

/// Forward when not answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ForwardNoAnswer {
    /// Forward unanswered calls; unset: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Number or extension to forward to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\+?[0-9*#]{2,30}$"))]
    pub destination: Option<String>,
    /// Rings before the call is forwarded (2 to 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 20))]
    pub number_of_rings: Option<u32>,
    /// Send forwarded calls to the destination's voicemail (internal destinations only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_voicemail_enabled: Option<bool>,
}

/// Barge-in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BargeIn {
    /// Barge-in on or off; unset: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// A tone tells the parties that someone joined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tone_enabled: Option<bool>,
}

/// Single number reach (the switch, not the list of numbers).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SingleNumberReach {
    /// Single number reach on or off; unset: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Click-to-dial calls alert all the user's numbers too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_all_numbers_for_click_to_dial_calls_enabled: Option<bool>,
}

/// Caller ID blocking.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallerIdBlocking {
    /// Hide the user's caller id on calls they forward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_in_forward_calls_enabled: Option<bool>,
}

/// Simultaneous ring.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SimultaneousRing {
    /// Simultaneous ring on or off; unset: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The other numbers do not ring while the user is on a call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub do_not_ring_if_on_call_enabled: Option<bool>,
    /// The numbers to ring, as a whole list (order kept); unset: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 10))]
    pub phone_numbers: Option<Vec<RingNumber>>,
}

/// Sequential ring.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SequentialRing {
    /// Sequential ring on or off; unset: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The user's own devices ring first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_base_location_first_enabled: Option<bool>,
    /// Rings on the user's own devices before the other numbers (2 to 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 20))]
    pub base_location_number_of_rings: Option<u32>,
    /// Go on to the other numbers when the user is busy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continue_if_base_location_is_busy_enabled: Option<bool>,
    /// The caller may press # to go to voicemail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls_to_voicemail_enabled: Option<bool>,
    /// The numbers to ring in turn, as a whole list (order kept); unset: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 5))]
    pub phone_numbers: Option<Vec<RingNumber>>,
}

/// One number that simultaneous or sequential ring calls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RingNumber {
    /// The number, E.164 or an extension.
    #[schemars(regex(pattern = r"^\+?[0-9*#]{2,30}$"))]
    pub phone_number: String,
    /// The called party must press 1 to take the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_confirmation_required_enabled: Option<bool>,
    /// Rings before the next number (sequential ring only, 2 to 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 20))]
    pub number_of_rings: Option<u32>,
}

/// Selective forward.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SelectiveForward {
    /// Selective forward on or off; unset: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Where matching calls go unless a criterion names another number. Enabling needs one (in
    /// the spec or already in Webex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\+?[0-9*#]{2,30}$"))]
    pub default_phone_number_to_forward: Option<String>,
    /// Play a short tone on the user's phone when a call is forwarded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_reminder_enabled: Option<bool>,
    /// Send forwarded calls to the destination's voicemail (internal destinations only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_voicemail_enabled: Option<bool>,
}

/// Voicemail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Voicemail {
    /// Voicemail on or off; unset: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Every call goes to voicemail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_all_calls: Option<Toggle>,
    /// Calls go to voicemail when the user is busy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_busy_calls: Option<Toggle>,
    /// Unanswered calls go to voicemail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_unanswered_calls: Option<VoicemailUnanswered>,
    /// An email copy of each message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_copy_of_message: Option<VoicemailEmailCopy>,
}

/// Unanswered calls to voicemail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoicemailUnanswered {
    /// On or off; unset: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Rings before the call goes to voicemail (2 to 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 20))]
    pub number_of_rings: Option<u32>,
}

/// Email copy of voicemail messages. Enabling needs an address (in the spec or already in Webex).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoicemailEmailCopy {
    /// On or off; unset: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Where the copies go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 254))]
    pub email_id: Option<String>,
}

/// The executive / executive assistant feature of a user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutiveAssistant {
    /// The user's role; unset: not managed.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub role: Option<ExecutiveRole>,
}

/// Wire values of the executive / executive assistant feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutiveRole {
    Unassigned,
    Executive,
    ExecutiveAssistant,
}

/// A user's tracking code values on one Meetings site (R-USER-8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SiteTrackingCodes {
    /// The Meetings site, e.g. `acme.webex.com`.
    #[schemars(length(min = 1, max = 256))]
    pub site_url: String,
    /// Tracking code name to value (each at most 120 characters). Names must exist on the site.
    pub codes: BTreeMap<String, String>,
}
