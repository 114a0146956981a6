//! An HTTP/1.1 backend connection driven by whoever uses it: the request's own task while an
//! exchange is on it, the pool's sweeper while it idles. hyper's usual set-up gives every
//! connection a task of its own, which costs a task wake-up and a hand-off through a channel
//! for each request and each response; a proxy already has a task waiting on the exchange.

use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::client::conn::{TrySendError, http1};

use crate::http::body::ReqBody;

/// hyper's connection future (with upgrades), whatever the transport under it.
type Driver = Pin<Box<dyn Future<Output = hyper::Result<()>> + Send>>;

pub struct H1Conn {
    sender: http1::SendRequest<ReqBody>,
    /// `None` once the connection has ended.
    driver: Option<Driver>,
}

impl H1Conn {
    pub fn new<I>(sender: http1::SendRequest<ReqBody>, conn: http1::Connection<I, ReqBody>) -> Self
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        Self {
            sender,
            driver: Some(Box::pin(conn.with_upgrades())),
        }
    }

    /// Lets hyper make progress on the socket; false once the connection has ended.
    pub fn drive(&mut self, cx: &mut Context<'_>) -> bool {
        if let Some(driver) = &mut self.driver
            && let Poll::Ready(result) = driver.as_mut().poll(cx)
        {
            if let Err(e) = result {
                tracing::debug!(error = %e, "Backend connection ended with an error.");
            }
            self.driver = None;
        }
        self.driver.is_some()
    }

    /// [`Self::drive`] from outside any task: the socket's readiness is remembered by tokio,
    /// so whoever drives it next with a real waker loses nothing.
    pub fn drive_detached(&mut self) -> bool {
        self.drive(&mut Context::from_waker(Waker::noop()))
    }

    pub fn is_open(&self) -> bool {
        self.driver.is_some() && !self.sender.is_closed()
    }

    /// Waits until the connection can take a request; false if it ended first.
    pub async fn ready(&mut self) -> bool {
        std::future::poll_fn(|cx| {
            let open = self.drive(cx);
            match self.sender.poll_ready(cx) {
                Poll::Ready(r) => Poll::Ready(r.is_ok() && open),
                Poll::Pending if open => Poll::Pending,
                Poll::Pending => Poll::Ready(false),
            }
        })
        .await
    }

    /// Sends `req` and drives the connection until the response head is in.
    pub async fn send(
        &mut self,
        req: Request<ReqBody>,
    ) -> Result<Response<Incoming>, TrySendError<Request<ReqBody>>> {
        let mut response = pin!(self.sender.try_send_request(req));
        std::future::poll_fn(|cx| {
            let open = self.drive(cx);
            // The response can only come from driving the connection, whose socket wakes
            // this task: polled without a waker, hyper's hand-off does not wake it again.
            let polled = response
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()));
            match polled {
                Poll::Pending if !open => {
                    // The connection ended: hyper has answered the exchange with an error,
                    // which a polling with this task's waker picks up.
                    response.as_mut().poll(cx)
                }
                polled => polled,
            }
        })
        .await
    }

    /// Hands the connection to a task of its own: after `101 Switching Protocols`, hyper
    /// completes the upgrade when its connection future finishes.
    pub fn detach(self) {
        if let Some(driver) = self.driver {
            tokio::spawn(async move {
                if let Err(e) = driver.await {
                    tracing::debug!(error = %e, "Upgraded backend connection ended with an error.");
                }
            });
        }
    }
}
