//! The condition language's view of one request (`bfe_config::cond::Facts`) over the proxy's
//! request parts and context. Borrowing only: conditions run on the hot path.

use std::net::IpAddr;
use std::ops::ControlFlow;

use bfe_config::cond::Facts;
use http::{Version, request, response};

use crate::pipeline::RequestCtx;

pub struct ReqFacts<'a> {
    pub req: &'a request::Parts,
    pub ctx: &'a RequestCtx,
    pub res: Option<&'a response::Parts>,
}

impl Facts for ReqFacts<'_> {
    fn method(&self) -> &str {
        self.req.method.as_str()
    }

    fn host(&self) -> &str {
        match self.req.headers.get(http::header::HOST) {
            Some(h) => h.to_str().unwrap_or(""),
            None => self.req.uri.authority().map_or("", |a| a.as_str()),
        }
    }

    fn path(&self) -> &str {
        self.req.uri.path()
    }

    fn query(&self) -> &str {
        self.req.uri.query().unwrap_or("")
    }

    fn request_uri(&self) -> &str {
        self.req.uri.path_and_query().map_or("/", |p| p.as_str())
    }

    fn protocol(&self) -> &str {
        match (self.req.version, self.ctx.session.secure) {
            (Version::HTTP_2, true) => "h2",
            (Version::HTTP_2, false) => "h2c",
            (_, true) => "https",
            (_, false) => "http",
        }
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.req.headers.get(name).map(|v| v.as_bytes())
    }

    fn for_each_header<'a>(&'a self, visit: &mut dyn FnMut(&'a str, &'a [u8]) -> ControlFlow<()>) {
        for (name, value) in &self.req.headers {
            if visit(name.as_str(), value.as_bytes()).is_break() {
                return;
            }
        }
    }

    fn for_each_cookie_header<'a>(&'a self, visit: &mut dyn FnMut(&'a [u8]) -> ControlFlow<()>) {
        for value in self.req.headers.get_all(http::header::COOKIE) {
            if visit(value.as_bytes()).is_break() {
                return;
            }
        }
    }

    fn client_ip(&self) -> Option<IpAddr> {
        Some(self.ctx.client_ip)
    }

    fn socket_ip(&self) -> Option<IpAddr> {
        Some(self.ctx.session.peer.ip())
    }

    fn vip(&self) -> Option<IpAddr> {
        self.ctx.session.vip
    }

    fn is_secure(&self) -> bool {
        self.ctx.session.secure
    }

    fn tls_sni(&self) -> Option<&str> {
        self.ctx.session.tls.get()?.sni.as_deref()
    }

    fn tls_client_auth(&self) -> bool {
        self.ctx.session.tls.get().is_some_and(|t| t.client_auth)
    }

    fn tls_client_ca_name(&self) -> Option<&str> {
        self.ctx.session.tls.get()?.client_ca_name.as_deref()
    }

    fn cip_trusted(&self) -> bool {
        self.ctx.session.is_trusted()
    }

    fn for_each_tag<'a>(&'a self, name: &str, visit: &mut dyn FnMut(&'a str) -> ControlFlow<()>) {
        for (k, v) in &self.ctx.tags {
            if &**k == name && visit(v).is_break() {
                return;
            }
        }
    }

    fn context_value(&self, key: &str) -> Option<&str> {
        self.ctx
            .context
            .iter()
            .rev()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| &**v)
    }

    fn host_tag(&self) -> Option<&str> {
        let tenant = self.ctx.active.snapshot.tenant(self.ctx.tenant?);
        tenant
            .host_tags
            .get(self.ctx.host_tag? as usize)
            .map(|t| &**t)
    }

    fn response_status(&self) -> Option<u16> {
        self.res.map(|r| r.status.as_u16())
    }

    fn response_header(&self, name: &str) -> Option<&[u8]> {
        self.res?.headers.get(name).map(|v| v.as_bytes())
    }
}
