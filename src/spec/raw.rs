//! The spec as written: a serde mirror of the schema, every field optional where the schema
//! allows it. Built only after the schema check passed, so its shape is known to be right.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value as Json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Fleet {
    pub api_version: String,
    pub kind: String,
    pub metadata: Metadata,
    pub spec: Spec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub name: String,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spec {
    pub engine: Option<String>,
    pub repository: Repository,
    pub hub: Option<Hub>,
    pub argocd: Option<ArgoCd>,
    pub defaults: Option<Defaults>,
    pub waves: Option<Vec<Wave>>,
    pub clusters: Vec<Cluster>,
    #[serde(default)]
    pub components: Vec<Component>,
    #[serde(default)]
    pub tenants: Vec<Tenant>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Repository {
    pub url: String,
    pub branch: Option<String>,
    pub secret_ref: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Hub {
    pub source_ref: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ArgoCd {
    pub retry_limit: Option<i64>,
    pub namespace: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Defaults {
    pub interval: Option<String>,
    pub retry_interval: Option<String>,
    pub timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Wave {
    pub name: String,
    pub sync_wave: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cluster {
    pub name: String,
    pub role: Option<String>,
    pub environment: Option<String>,
    pub branch: Option<String>,
    pub kubeconfig: Option<Kubeconfig>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Kubeconfig {
    pub secret_ref: Option<String>,
    pub key: Option<String>,
    pub config_map_ref: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    #[serde(rename = "matchLabels")]
    pub match_labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chart {
    pub repository: String,
    pub name: String,
    pub version: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub version: Option<String>,
    pub values: Option<Json>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Component {
    pub name: String,
    pub wave: String,
    pub namespace: Option<String>,
    pub chart: Option<Chart>,
    pub path: Option<String>,
    pub values: Option<Json>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    pub clusters: Option<Vec<String>>,
    pub selector: Option<Selector>,
    #[serde(default)]
    pub environments: BTreeMap<String, Override>,
    #[serde(default)]
    pub provides: Vec<String>,
    #[serde(default)]
    pub requires: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    pub name: String,
    pub clusters: Option<Vec<String>>,
    pub selector: Option<Selector>,
    pub namespaces: Option<Vec<String>>,
    pub quota: Option<BTreeMap<String, Json>>,
    pub isolation: Option<String>,
    pub apps: Option<Apps>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Apps {
    pub repository: AppsRepository,
    pub delivery: Option<String>,
    pub wave: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppsRepository {
    pub url: String,
    pub branch: Option<String>,
    pub path: Option<String>,
    pub secret_ref: Option<String>,
}
