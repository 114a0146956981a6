//! Handlers of the named top-level resources (tenants, clusters, certificates): list, create,
//! read, replace, merge-patch, delete. One macro writes the six thin handlers per kind, so the
//! kinds cannot drift apart; the work happens in [`super::resource`].

/// Writes the handlers of one kind. `$coll` is the collection path, `$item` the item path with
/// its `{$pname}` parameter, `$body` the request body's schema type.
macro_rules! crud_handlers {
    (
        kind: $kind:expr, tag: $tag:literal, coll: $coll:literal, item: $item:literal,
        param: $pname:literal, body: $body:ty,
        list: $list:ident, create: $create:ident, get: $get:ident, put: $put:ident,
        patch: $patch:ident, delete: $delete:ident $(,)?
    ) => {
        /// List, with cursor pagination and a name-prefix filter.
        #[utoipa::path(get, path = $coll, tag = $tag, params(ListQuery),
            responses((status = 200, body = ResourcePage), (status = 400, body = ErrorBody),
                (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
        pub async fn $list(
            State(state): State<AppState>,
            actor: Actor,
            ApiQuery(q): ApiQuery<ListQuery>,
        ) -> Result<Json<ResourcePage>, ApiError> {
            resource::list(&state, &actor, $kind, &q).await
        }

        /// Create (a one-operation change set; 409 if it exists, 422 if the config would not
        /// compile).
        #[utoipa::path(post, path = $coll, tag = $tag, request_body = $body,
            responses((status = 201, body = Value, headers(("ETag" = String))),
                (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
                (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
                (status = 422, body = ErrorBody)))]
        pub async fn $create(
            State(state): State<AppState>,
            actor: Actor,
            rid: RequestId,
            ApiDoc(body): ApiDoc,
        ) -> Result<Response, ApiError> {
            let name = body
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::bad_field("body.name", "missing name"))?
                .to_owned();
            let key = ResourceKey::new($kind, name);
            resource::write(&state, &actor, &rid.0, OpKind::Create, key, Some(body), None).await
        }

        /// Read, with its ETag.
        #[utoipa::path(get, path = $item, tag = $tag,
            params(($pname = String, Path, description = "Resource name")),
            responses((status = 200, body = Value, headers(("ETag" = String))),
                (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
                (status = 404, body = ErrorBody)))]
        pub async fn $get(
            State(state): State<AppState>,
            actor: Actor,
            ApiPath(name): ApiPath<String>,
        ) -> Result<Response, ApiError> {
            resource::read(&state, &actor, ResourceKey::new($kind, name)).await
        }

        /// Replace the whole document (`If-Match` honoured: stale → 412).
        #[utoipa::path(put, path = $item, tag = $tag, request_body = $body,
            params(($pname = String, Path, description = "Resource name"),
                ("If-Match" = Option<String>, Header, description = "ETag the change is based on")),
            responses((status = 200, body = Value, headers(("ETag" = String))),
                (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
                (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
                (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
        pub async fn $put(
            State(state): State<AppState>,
            actor: Actor,
            rid: RequestId,
            headers: HeaderMap,
            ApiPath(name): ApiPath<String>,
            ApiDoc(body): ApiDoc,
        ) -> Result<Response, ApiError> {
            let key = ResourceKey::new($kind, name);
            let m = if_match(&headers)?;
            resource::write(&state, &actor, &rid.0, OpKind::Update, key, Some(body), m).await
        }

        /// Change fields with a JSON merge patch (RFC 7386).
        #[utoipa::path(patch, path = $item, tag = $tag, request_body = Object,
            params(($pname = String, Path, description = "Resource name"),
                ("If-Match" = Option<String>, Header, description = "ETag the change is based on")),
            responses((status = 200, body = Value, headers(("ETag" = String))),
                (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
                (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
                (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
        pub async fn $patch(
            State(state): State<AppState>,
            actor: Actor,
            rid: RequestId,
            headers: HeaderMap,
            ApiPath(name): ApiPath<String>,
            ApiDoc(body): ApiDoc,
        ) -> Result<Response, ApiError> {
            let key = ResourceKey::new($kind, name);
            let m = if_match(&headers)?;
            resource::write(&state, &actor, &rid.0, OpKind::Patch, key, Some(body), m).await
        }

        /// Delete (`If-Match` honoured).
        #[utoipa::path(delete, path = $item, tag = $tag,
            params(($pname = String, Path, description = "Resource name"),
                ("If-Match" = Option<String>, Header, description = "ETag the change is based on")),
            responses((status = 204), (status = 401, body = ErrorBody),
                (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
                (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
        pub async fn $delete(
            State(state): State<AppState>,
            actor: Actor,
            rid: RequestId,
            headers: HeaderMap,
            ApiPath(name): ApiPath<String>,
        ) -> Result<Response, ApiError> {
            let key = ResourceKey::new($kind, name);
            let m = if_match(&headers)?;
            resource::write(&state, &actor, &rid.0, OpKind::Delete, key, None, m).await
        }
    };
}

pub(crate) use crud_handlers;
