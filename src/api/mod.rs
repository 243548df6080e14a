//! The custom resource types: one file per kind, all in one API group and version.
//!
//! `///` comments here are user documentation: they become the CRD descriptions that
//! `kubectl explain` prints. Maintainer notes use `//`.

pub mod calling_settings;
pub mod common;
pub mod conditions;
pub mod content_management;
pub mod external_user;
pub mod license_template;
pub mod naming;
pub mod user_claim;
pub mod webex_org;
pub mod webex_user;

pub use common::*;
pub use external_user::ExternalUser;
pub use license_template::LicenseTemplate;
pub use user_claim::UserClaim;
pub use webex_org::WebexOrg;
pub use webex_user::WebexUser;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// The API group of every kind.
pub const GROUP: &str = "webex.operator.io";
/// The category that `kubectl get webex` lists.
pub const CATEGORY: &str = "webex";

/// Every CRD of the operator, in install order.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        WebexOrg::crd(),
        WebexUser::crd(),
        LicenseTemplate::crd(),
        UserClaim::crd(),
        ExternalUser::crd(),
    ]
}

/// The CRDs as one multi-document YAML stream: what `webex-operator crds` prints and `crds/`
/// holds.
pub fn crds_yaml() -> Result<String, serde_saphyr::SerializeError> {
    let mut out = String::new();
    for crd in crds() {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&crd)?);
    }
    Ok(out)
}
