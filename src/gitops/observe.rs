//! Observing Webex for `plan` and `import` (client required, read-only: only GETs).
//!
//! The org comes from a WebexOrg manifest among the inputs (`apiBaseUrl`, `backend`); without a
//! cluster the token cannot come from its Secret through the API server, so it is read from the
//! environment: `WEBEX_TOKEN_<ORG>` (the WebexOrg's name in upper case, `-` and `.` as `_`),
//! else the variable named by `--token-env` (default `WEBEX_TOKEN`), else the referenced Secret
//! when it is among the inputs. The token is never printed.

use std::sync::Arc;

use super::GitopsError;
use super::input::Located;
use crate::api::webex_org::{Backend, WebexOrg};
use crate::controller::org_registry::OrgFacts;
use crate::controller::webex_org::plan::{self as org_plan, OrgObservation};
use crate::webex::budget::Budget;
use crate::webex::client::{PEOPLE_PAGE_SIZE, Token, WebexClient};
use crate::webex::error::WebexError;
use crate::webex::model::{Person, SETTING_ADMIN_INVITE_EMAILS};
use k8s_openapi::api::core::v1::Secret;

/// Default name of the environment variable that holds the token.
pub const DEFAULT_TOKEN_ENV: &str = "WEBEX_TOKEN";

/// A connected org: its client, the observation and the facts the user planner needs.
#[derive(Debug, Clone)]
pub struct ObservedOrg {
    pub name: String,
    pub client: WebexClient,
    pub observation: OrgObservation,
    pub facts: OrgFacts,
}

/// The per-org variable: `WEBEX_TOKEN_ACME` for org `acme`.
pub fn per_org_env(env: &str, org: &str) -> String {
    let suffix: String = org
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{env}_{suffix}")
}

/// Finds the token of `org` (see the module doc). `lookup` reads an environment variable.
pub fn find_token(
    org: &WebexOrg,
    token_env: &str,
    secrets: &[Located<Secret>],
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Token, GitopsError> {
    let name = org.metadata.name.clone().unwrap_or_default();
    let per_org = per_org_env(token_env, &name);
    if let Some(t) = lookup(&per_org).filter(|t| !t.trim().is_empty()) {
        return Ok(Token::new(t));
    }
    if let Some(t) = lookup(token_env).filter(|t| !t.trim().is_empty()) {
        return Ok(Token::new(t));
    }
    let r = &org.spec.token_secret_ref;
    let from_secret = secrets
        .iter()
        .map(|s| &s.object)
        .filter(|s| s.metadata.name.as_deref() == Some(r.name.as_str()))
        .filter(|s| s.metadata.namespace.as_deref().unwrap_or("default") == r.namespace)
        .find_map(|s| {
            let data = s.data.as_ref().and_then(|d| d.get(&r.key)).map(|b| b.0.clone());
            let string_data = s
                .string_data
                .as_ref()
                .and_then(|d| d.get(&r.key))
                .map(|v| v.clone().into_bytes());
            string_data.or(data)
        })
        .and_then(|bytes| String::from_utf8(bytes).ok())
        // Secrets written by hand sometimes hold base64 in stringData; never guess: use as is.
        .filter(|t| !t.trim().is_empty());
    match from_secret {
        Some(t) => Ok(Token::new(t)),
        None => Err(GitopsError::MissingToken {
            org: name,
            per_org_env: per_org,
            env: token_env.to_string(),
        }),
    }
}

fn webex(org: &str, operation: &'static str) -> impl FnOnce(WebexError) -> GitopsError {
    let org = org.to_string();
    move |source| GitopsError::Webex {
        org,
        operation,
        source: Box::new(source),
    }
}

/// Connects to the org and reads what the WebexOrg reconciler reads (token owner, licences,
/// roles, the activation email setting, directory sync), then builds the facts with the
/// controller's own `facts` function.
pub async fn observe_org(org: &WebexOrg, token: Token) -> Result<ObservedOrg, GitopsError> {
    let name = org.metadata.name.clone().unwrap_or_default();
    // The org's API budget, as the controller sets it: plan shares Webex's rate limits with it.
    let budget = Arc::new(Budget::new(org_plan::budget_config(&org.spec)));
    let client = WebexClient::new(&org.spec.api_base_url, token)
        .map_err(webex(&name, "build the Webex client"))?
        .with_budget(budget);
    connect(&name, client, org).await
}

async fn connect(name: &str, client: WebexClient, org: &WebexOrg) -> Result<ObservedOrg, GitopsError> {
    let me = client.me().await.map_err(webex(name, "check the token"))?;
    let org_id = me.org_id.clone().ok_or_else(|| GitopsError::Webex {
        org: name.to_string(),
        operation: "read the org id of the token's person",
        source: Box::new(WebexError::NotAvailableInPublicApi {
            operation: "an org id for this token",
        }),
    })?;
    let licenses = client.list_licenses().await.map_err(webex(name, "list licences"))?;
    let roles = client.list_roles().await.map_err(webex(name, "list roles"))?;
    // R-ORG-1: only needed to plan the WebexOrg's own setting; an org whose token may not read
    // it still plans its users.
    let activation_emails = client
        .get_org_setting(&org_id, SETTING_ADMIN_INVITE_EMAILS)
        .await
        .ok()
        .and_then(|s| s.value.as_bool());
    // R-ORG-2: the real service has no API for it; the spec's declaration decides.
    let directory_sync_reported = match client
        .directory_sync(&org_id, org.spec.backend == Backend::Simulator)
        .await
    {
        Ok(v) => Some(v),
        Err(WebexError::NotAvailableInPublicApi { .. }) => None,
        Err(e) => return Err(webex(name, "read the directory-sync status")(e)),
    };
    let observation = OrgObservation {
        org_id,
        licenses,
        roles,
        activation_emails,
        directory_sync_reported,
        // Not compared by plan (R-USER-9 has no public API); the controller reads it.
        content_management: None,
    };
    let facts = org_plan::facts(&org.spec, &observation);
    Ok(ObservedOrg {
        name: name.to_string(),
        client,
        observation,
        facts,
    })
}

/// The person a WebexUser stands for, found as the controller finds it: by the id in status,
/// else by email.
pub async fn observe_person(
    org: &ObservedOrg,
    person_id: Option<&str>,
    email: &str,
) -> Result<Option<Person>, GitopsError> {
    if let Some(id) = person_id
        && let Some(person) = org
            .client
            .get_person(id)
            .await
            .map_err(webex(&org.name, "read a person"))?
    {
        return Ok(Some(person));
    }
    org.client
        .find_person_by_email(email)
        .await
        .map_err(webex(&org.name, "look an email up"))
}

/// Every person of the org (paged), for many lookups at once: a few list calls instead of one
/// call per object, as the controller's drift detection reads an org.
pub async fn list_people(org: &ObservedOrg) -> Result<Vec<Person>, GitopsError> {
    org.client
        .list_people(PEOPLE_PAGE_SIZE)
        .await
        .map_err(webex(&org.name, "list people"))
}

/// What the GETs show about the org's external users (see [`super::external`]): the org's
/// people listed by pages (a person of the org is no external user), and the users of each
/// Meetings site licence (`includeAssignedTo=user`, 300 per page), of whom those of type
/// `EXTERNAL` hold the site's host account (R-EXT-6). Cost: the people pages plus one call per
/// site licence (per 300 holders), whatever the number of objects.
pub async fn list_external(
    org: &ObservedOrg,
    people: Option<&[Person]>,
) -> Result<super::external::ExternalListing, GitopsError> {
    let mut listing = super::external::ExternalListing::default();
    let listed;
    let people = match people {
        Some(p) => p,
        None => {
            listed = list_people(org).await?;
            &listed
        }
    };
    for p in people {
        for e in &p.emails {
            listing.members.insert(e.to_ascii_lowercase(), p.id.clone());
        }
    }
    for licence in &org.facts.licenses {
        let Some(site) = &licence.site_url else { continue };
        let users = org
            .client
            .license_users(&licence.id)
            .await
            .map_err(webex(&org.name, "list the users of a Meetings site licence"))?;
        for u in users.into_iter().filter(|u| u.kind.eq_ignore_ascii_case("EXTERNAL")) {
            let holder = listing.holders.entry(u.email.to_ascii_lowercase()).or_default();
            holder.person_id = u.id;
            holder.sites.insert(site.to_ascii_lowercase());
        }
    }
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> WebexOrg {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "webex.operator.io/v1alpha1", "kind": "WebexOrg", "metadata": {"name": "acme-eu"},
            "spec": {"apiBaseUrl": "http://sim", "backend": "Simulator", "tokenSecretRef": {"name": "tok", "namespace": "ns"}}
        }))
        .unwrap()
    }

    #[test]
    fn the_per_org_variable_wins_then_the_shared_one_then_the_secret() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        assert_eq!(per_org_env("WEBEX_TOKEN", "acme-eu"), "WEBEX_TOKEN_ACME_EU");
        let secret: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "tok", "namespace": "ns"}, "stringData": {"token": "from-secret"}
        }))
        .unwrap();
        let secrets = vec![Located {
            location: "s".into(),
            object: secret,
        }];
        // Tokens never print themselves: compare through a request-free path.
        assert!(find_token(&org(), "WEBEX_TOKEN", &[], env(&[("WEBEX_TOKEN_ACME_EU", "a")])).is_ok());
        assert!(find_token(&org(), "WEBEX_TOKEN", &[], env(&[("WEBEX_TOKEN", "b")])).is_ok());
        assert!(find_token(&org(), "WEBEX_TOKEN", &secrets, env(&[])).is_ok());
        let missing = find_token(&org(), "WEBEX_TOKEN", &[], env(&[]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            missing,
            "no token for WebexOrg acme-eu: set WEBEX_TOKEN_ACME_EU or WEBEX_TOKEN (the token is never printed)"
        );
    }
}
