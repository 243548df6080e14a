//! Pure decisions about a user's Meetings tracking codes (R-USER-8): for each site the spec
//! names, the codes whose value Webex does not hold yet. Codes the spec leaves out keep their
//! values; equal values make no write.

use std::collections::BTreeMap;

use crate::api::calling_settings::SiteTrackingCodes;
use crate::webex::calling::{UserTrackingCode, UserTrackingCodes};

/// The PUT bodies needed, one per site with a difference. `observed` holds what Webex answered
/// per site (by site URL, case-insensitive); a site not observed gets every code.
pub fn writes(
    wanted: &[SiteTrackingCodes],
    observed: &BTreeMap<String, UserTrackingCodes>,
    person_id: &str,
) -> Vec<UserTrackingCodes> {
    wanted
        .iter()
        .filter_map(|site| {
            let held = observed.get(&site.site_url.to_ascii_lowercase());
            let changed: Vec<UserTrackingCode> = site
                .codes
                .iter()
                .filter(|(name, value)| {
                    !held.is_some_and(|h| h.tracking_codes.iter().any(|c| &c.name == *name && &c.value == *value))
                })
                .map(|(name, value)| UserTrackingCode {
                    id: None,
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect();
            (!changed.is_empty()).then(|| UserTrackingCodes {
                site_url: site.site_url.clone(),
                person_id: Some(person_id.to_string()),
                email: None,
                tracking_codes: changed,
            })
        })
        .collect()
}

/// "Project=Apollo on acme.webex.com" for Events.
pub fn describe(writes: &[UserTrackingCodes]) -> String {
    writes
        .iter()
        .map(|w| {
            let codes: Vec<String> = w
                .tracking_codes
                .iter()
                .map(|c| format!("{}={}", c.name, c.value))
                .collect();
            format!("{} on {}", codes.join(", "), w.site_url)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(url: &str, codes: &[(&str, &str)]) -> SiteTrackingCodes {
        SiteTrackingCodes {
            site_url: url.into(),
            codes: codes.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        }
    }

    fn held(url: &str, codes: &[(&str, &str)]) -> (String, UserTrackingCodes) {
        (
            url.to_ascii_lowercase(),
            UserTrackingCodes {
                site_url: url.into(),
                person_id: Some("P".into()),
                email: None,
                tracking_codes: codes
                    .iter()
                    .map(|(n, v)| UserTrackingCode {
                        id: Some("1".into()),
                        name: n.to_string(),
                        value: v.to_string(),
                    })
                    .collect(),
            },
        )
    }

    #[test]
    fn only_differing_codes_are_written() {
        let wanted = vec![
            site("a.webex.com", &[("Project", "Apollo"), ("Dept", "R&D")]),
            site("b.webex.com", &[("Project", "Gemini")]),
        ];
        let observed = BTreeMap::from([
            held("A.webex.com", &[("Project", "Apollo"), ("Dept", ""), ("Other", "x")]),
            held("b.webex.com", &[("Project", "Gemini")]),
        ]);
        let out = writes(&wanted, &observed, "P");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].site_url, "a.webex.com");
        assert_eq!(out[0].tracking_codes.len(), 1);
        assert_eq!(out[0].tracking_codes[0].name, "Dept");
        assert_eq!(describe(&out), "Dept=R&D on a.webex.com");
    }

    #[test]
    fn unobserved_sites_get_every_code_and_equal_sites_nothing() {
        let wanted = vec![site("c.webex.com", &[("Project", "Apollo")])];
        assert_eq!(writes(&wanted, &BTreeMap::new(), "P").len(), 1);
        let observed = BTreeMap::from([held("c.webex.com", &[("Project", "Apollo")])]);
        assert!(writes(&wanted, &observed, "P").is_empty());
    }
}
