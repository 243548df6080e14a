//! Webex public ids: unpadded base64 of `ciscospark://us/<TYPE>/<id>` (webex-api-notes §1).
//!
//! Licences are matched on the offer code inside the id (`CJPPRM`, `BCSTD`, ...), never on the
//! display name, which varies by locale and subscription.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// The kinds of object a Webex id can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum IdKind {
    People,
    Organization,
    License,
    Role,
    Location,
    Subscription,
}

/// Encodes `ciscospark://us/<KIND>/<raw>` as a public Webex id.
pub fn encode(kind: IdKind, raw: &str) -> String {
    let kind: &'static str = kind.into();
    URL_SAFE_NO_PAD.encode(format!("ciscospark://us/{kind}/{raw}"))
}

/// Decodes a public Webex id into its kind and raw part; `None` when it is not one.
pub fn decode(id: &str) -> Option<(IdKind, String)> {
    let bytes = URL_SAFE_NO_PAD
        .decode(id.trim_end_matches('='))
        .or_else(|_| STANDARD_NO_PAD.decode(id.trim_end_matches('=')))
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let rest = text.strip_prefix("ciscospark://")?;
    let mut parts = rest.splitn(3, '/');
    let _region = parts.next()?;
    let kind = parts.next()?.parse().ok()?;
    Some((kind, parts.next()?.to_string()))
}

/// The offer code of a licence id: `ciscospark://us/LICENSE/<org>:<OFFER>_<uuid>[_<site>]`.
pub fn license_offer_code(license_id: &str) -> Option<String> {
    let (kind, raw) = decode(license_id)?;
    if kind != IdKind::License {
        return None;
    }
    let after_org = raw.split_once(':').map_or(raw.as_str(), |(_, rest)| rest);
    let code = after_org.split('_').next()?;
    (!code.is_empty()).then(|| code.to_string())
}

/// Builds a licence id the way Webex lays it out.
pub fn license_id(org_raw: &str, offer_code: &str, license_raw: &str, site_url: Option<&str>) -> String {
    let mut raw = format!("{org_raw}:{offer_code}_{license_raw}");
    if let Some(site) = site_url {
        raw.push('_');
        raw.push_str(site);
    }
    encode(IdKind::License, &raw)
}

/// Role ids are `ciscospark://us/ROLE/<roleName>`, e.g. `id_full_admin`.
pub fn role_id(role_name: &str) -> String {
    encode(IdKind::Role, role_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_admin_role_id_matches_the_real_one() {
        assert_eq!(
            role_id("id_full_admin"),
            "Y2lzY29zcGFyazovL3VzL1JPTEUvaWRfZnVsbF9hZG1pbg"
        );
    }

    #[test]
    fn decodes_people_ids_with_or_without_padding() {
        let id = encode(IdKind::People, "f5b36187-c8dd-4727-8b2f-f9c447f29046");
        assert_eq!(
            id,
            "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9mNWIzNjE4Ny1jOGRkLTQ3MjctOGIyZi1mOWM0NDdmMjkwNDY"
        );
        let padded = format!("{id}==");
        assert_eq!(decode(&padded).map(|(k, _)| k), Some(IdKind::People));
    }

    #[test]
    fn offer_code_is_read_from_the_id_not_the_name() {
        let id = license_id("org-uuid", "CJPPRM", "lic-uuid", None);
        assert_eq!(license_offer_code(&id).as_deref(), Some("CJPPRM"));
        let site = license_id("org-uuid", "MC", "lic-uuid", Some("acme.webex.com"));
        assert_eq!(license_offer_code(&site).as_deref(), Some("MC"));
        assert_eq!(license_offer_code(&role_id("id_full_admin")), None);
        assert_eq!(license_offer_code("not base64 at all!"), None);
    }
}
