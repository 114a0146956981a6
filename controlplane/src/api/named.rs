//! Tenants, clusters and certificates: the named top-level resources.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;

use super::crud::crud_handlers;
use super::extract::{ApiDoc, ApiPath, ApiQuery, ListQuery, RequestId, if_match};
use super::resource::{self, ResourcePage};
use crate::auth::Actor;
use crate::error::{ApiError, ErrorBody};
use crate::model::{ResourceKey, ResourceKind, TenantDoc};
use crate::service::OpKind;
use crate::state::AppState;

crud_handlers! {
    kind: ResourceKind::Tenant, tag: "tenants",
    coll: "/api/v1/tenants", item: "/api/v1/tenants/{tenant}", param: "tenant", body: TenantDoc,
    list: list_tenants, create: create_tenant, get: get_tenant, put: put_tenant,
    patch: patch_tenant, delete: delete_tenant,
}

crud_handlers! {
    kind: ResourceKind::Cluster, tag: "clusters",
    coll: "/api/v1/clusters", item: "/api/v1/clusters/{cluster}", param: "cluster", body: Object,
    list: list_clusters, create: create_cluster, get: get_cluster, put: put_cluster,
    patch: patch_cluster, delete: delete_cluster,
}

crud_handlers! {
    kind: ResourceKind::Certificate, tag: "certificates",
    coll: "/api/v1/certificates", item: "/api/v1/certificates/{certificate}",
    param: "certificate", body: Object,
    list: list_certificates, create: create_certificate, get: get_certificate,
    put: put_certificate, patch: patch_certificate, delete: delete_certificate,
}
