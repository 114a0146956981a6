//! PROXY protocol v1 (text) and v2 (binary): reading the header a layer-4 balancer puts in
//! front of a connection, and writing one towards a stream backend. Bytes only: what the
//! addresses mean (client, VIP) is decided by the caller.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

/// v2 signature (12 bytes).
const V2_SIG: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
/// v1 line prefix.
const V1_SIG: &[u8; 6] = b"PROXY ";
/// The longest v1 line, CRLF included (the spec's 107 bytes).
const V1_MAX: usize = 107;

/// Whether a listener expects a PROXY header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Off,
    /// Read one when present; plain connections are served as they are.
    Optional,
    /// Close connections that do not start with one.
    Required,
}

/// The addresses a header carried; `None` for LOCAL (health checks) or UNKNOWN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub addrs: Option<(SocketAddr, SocketAddr)>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no PROXY protocol header")]
    Missing,
    #[error("malformed PROXY protocol header: {0}")]
    Malformed(&'static str),
    #[error("PROXY protocol header larger than {0} bytes")]
    TooLarge(usize),
    #[error("timed out reading the PROXY protocol header")]
    Timeout,
    #[error("reading the PROXY protocol header: {0}")]
    Io(#[from] io::Error),
}

pin_project_lite::pin_project! {
    /// A stream with bytes read ahead put back in front.
    pub struct Prefixed<S> {
        prefix: Vec<u8>,
        pos: usize,
        #[pin]
        inner: S,
    }
}

/// Reads the header (per `mode`) within `timeout`, at most `max_bytes` long. Returns the
/// header, if any, and the stream with whatever was read past it put back.
pub async fn accept<S: AsyncRead + Unpin>(
    mut stream: S,
    mode: Mode,
    max_bytes: usize,
    timeout: Duration,
) -> Result<(Option<Header>, Prefixed<S>), Error> {
    if mode == Mode::Off {
        return Ok((None, Prefixed::new(Vec::new(), stream)));
    }
    let mut buf = Vec::with_capacity(256);
    let parsed = tokio::time::timeout(timeout, async {
        loop {
            match parse(&buf, max_bytes) {
                Parse::Done(h, used) => return Ok(Some((h, used))),
                Parse::NotProxy if mode == Mode::Optional => return Ok(None),
                Parse::NotProxy => return Err(Error::Missing),
                Parse::Bad(e) => return Err(e),
                Parse::More => {}
            }
            let mut chunk = [0u8; 512];
            // Never read past what the header could need, so little is put back.
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(Error::Malformed("connection closed inside the header"));
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .map_err(|_| Error::Timeout)??;
    match parsed {
        Some((h, used)) => {
            buf.drain(..used);
            Ok((Some(h), Prefixed::new(buf, stream)))
        }
        None => Ok((None, Prefixed::new(buf, stream))),
    }
}

enum Parse {
    Done(Header, usize),
    NotProxy,
    More,
    Bad(Error),
}

fn parse(buf: &[u8], max_bytes: usize) -> Parse {
    let n = buf.len().min(V2_SIG.len());
    let v2 = buf[..n] == V2_SIG[..n];
    let n1 = buf.len().min(V1_SIG.len());
    let v1 = buf[..n1] == V1_SIG[..n1];
    if buf.is_empty() || (v2 && buf.len() < 16) || (v1 && buf.len() < V1_SIG.len()) {
        return if v1 || v2 {
            Parse::More
        } else {
            Parse::NotProxy
        };
    }
    if v2 {
        parse_v2(buf, max_bytes)
    } else if v1 {
        parse_v1(buf, max_bytes)
    } else {
        Parse::NotProxy
    }
}

fn parse_v1(buf: &[u8], max_bytes: usize) -> Parse {
    let limit = V1_MAX.min(max_bytes);
    let Some(end) = buf.windows(2).position(|w| w == b"\r\n") else {
        return if buf.len() >= limit {
            Parse::Bad(Error::TooLarge(limit))
        } else {
            Parse::More
        };
    };
    if end + 2 > limit {
        return Parse::Bad(Error::TooLarge(limit));
    }
    let Ok(line) = std::str::from_utf8(&buf[V1_SIG.len()..end]) else {
        return Parse::Bad(Error::Malformed("v1 line is not text"));
    };
    let parts: Vec<&str> = line.split(' ').collect();
    let header = match parts.as_slice() {
        ["UNKNOWN", ..] => Header { addrs: None },
        [proto @ ("TCP4" | "TCP6"), src, dst, sport, dport] => {
            let (Ok(src), Ok(dst), Ok(sport), Ok(dport)) = (
                src.parse::<IpAddr>(),
                dst.parse::<IpAddr>(),
                sport.parse::<u16>(),
                dport.parse::<u16>(),
            ) else {
                return Parse::Bad(Error::Malformed("v1 addresses"));
            };
            if (*proto == "TCP4") != (src.is_ipv4() && dst.is_ipv4()) {
                return Parse::Bad(Error::Malformed("v1 address family"));
            }
            Header {
                addrs: Some((SocketAddr::new(src, sport), SocketAddr::new(dst, dport))),
            }
        }
        _ => return Parse::Bad(Error::Malformed("v1 fields")),
    };
    Parse::Done(header, end + 2)
}

fn parse_v2(buf: &[u8], max_bytes: usize) -> Parse {
    let ver_cmd = buf[12];
    if ver_cmd >> 4 != 2 {
        return Parse::Bad(Error::Malformed("v2 version"));
    }
    let len = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    let total = 16 + len;
    if total > max_bytes {
        return Parse::Bad(Error::TooLarge(max_bytes));
    }
    if buf.len() < total {
        return Parse::More;
    }
    let body = &buf[16..total];
    let header = match ver_cmd & 0x0f {
        // LOCAL: the balancer's own connection (health check); keep the socket addresses.
        0 => Header { addrs: None },
        1 => match buf[13] >> 4 {
            1 if body.len() >= 12 => {
                let ip = |o: usize| {
                    IpAddr::V4(Ipv4Addr::new(
                        body[o],
                        body[o + 1],
                        body[o + 2],
                        body[o + 3],
                    ))
                };
                let port = |o: usize| u16::from_be_bytes([body[o], body[o + 1]]);
                Header {
                    addrs: Some((
                        SocketAddr::new(ip(0), port(8)),
                        SocketAddr::new(ip(4), port(10)),
                    )),
                }
            }
            2 if body.len() >= 36 => {
                let ip = |o: usize| {
                    let mut b = [0u8; 16];
                    b.copy_from_slice(&body[o..o + 16]);
                    IpAddr::V6(Ipv6Addr::from(b))
                };
                let port = |o: usize| u16::from_be_bytes([body[o], body[o + 1]]);
                Header {
                    addrs: Some((
                        SocketAddr::new(ip(0), port(32)),
                        SocketAddr::new(ip(16), port(34)),
                    )),
                }
            }
            1 | 2 => return Parse::Bad(Error::Malformed("v2 address block too short")),
            // AF_UNSPEC / AF_UNIX: nothing usable, keep the socket addresses.
            _ => Header { addrs: None },
        },
        _ => return Parse::Bad(Error::Malformed("v2 command")),
    };
    Parse::Done(header, total)
}

/// Encodes a header telling a backend about `src` connecting to `dst`.
pub fn encode(
    version: bfe_config::tls::ProxyProtocolVersion,
    src: SocketAddr,
    dst: SocketAddr,
) -> Vec<u8> {
    use bfe_config::tls::ProxyProtocolVersion as V;
    // Mixed families cannot be expressed; map both to IPv6.
    let (src, dst) = match (src, dst) {
        (SocketAddr::V4(_), SocketAddr::V6(_)) | (SocketAddr::V6(_), SocketAddr::V4(_)) => {
            (to_v6(src), to_v6(dst))
        }
        _ => (src, dst),
    };
    match version {
        V::V1 => {
            let fam = if src.is_ipv4() { "TCP4" } else { "TCP6" };
            format!(
                "PROXY {fam} {} {} {} {}\r\n",
                src.ip(),
                dst.ip(),
                src.port(),
                dst.port()
            )
            .into_bytes()
        }
        V::V2 => {
            let mut out = V2_SIG.to_vec();
            out.push(0x21);
            let mut body = Vec::new();
            match (src.ip(), dst.ip()) {
                (IpAddr::V4(s), IpAddr::V4(d)) => {
                    out.push(0x11);
                    body.extend_from_slice(&s.octets());
                    body.extend_from_slice(&d.octets());
                }
                (s, d) => {
                    out.push(0x21);
                    body.extend_from_slice(&v6(s).octets());
                    body.extend_from_slice(&v6(d).octets());
                }
            }
            body.extend_from_slice(&src.port().to_be_bytes());
            body.extend_from_slice(&dst.port().to_be_bytes());
            out.extend_from_slice(&(body.len() as u16).to_be_bytes());
            out.extend_from_slice(&body);
            out
        }
    }
}

fn v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

fn to_v6(a: SocketAddr) -> SocketAddr {
    SocketAddr::new(IpAddr::V6(v6(a.ip())), a.port())
}

// === impl Error ===

impl Error {
    /// A short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed(_) => "malformed",
            Self::TooLarge(_) => "too_large",
            Self::Timeout => "timeout",
            Self::Io(_) => "io",
        }
    }
}

// === impl Prefixed ===

impl<S> Prefixed<S> {
    pub fn new(prefix: Vec<u8>, inner: S) -> Self {
        Self {
            prefix,
            pos: 0,
            inner,
        }
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead> AsyncRead for Prefixed<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        if *this.pos < this.prefix.len() {
            let rest = &this.prefix[*this.pos..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            *this.pos += n;
            if *this.pos == this.prefix.len() {
                *this.prefix = Vec::new();
                *this.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        this.inner.poll_read(cx, buf)
    }
}

impl<S: AsyncWrite> AsyncWrite for Prefixed<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bfe_config::tls::ProxyProtocolVersion;

    fn done(buf: &[u8]) -> (Header, usize) {
        match parse(buf, 512) {
            Parse::Done(h, n) => (h, n),
            _ => panic!("not parsed"),
        }
    }

    #[test]
    fn v1_and_v2_round_trip() {
        let src: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        let dst: SocketAddr = "198.51.100.7:443".parse().unwrap();
        for v in [ProxyProtocolVersion::V1, ProxyProtocolVersion::V2] {
            let mut bytes = encode(v, src, dst);
            let len = bytes.len();
            bytes.extend_from_slice(b"GET /");
            let (h, used) = done(&bytes);
            assert_eq!(used, len);
            assert_eq!(h.addrs, Some((src, dst)));
        }
        let src6: SocketAddr = "[2001:db8::1]:1".parse().unwrap();
        let dst6: SocketAddr = "[2001:db8::2]:2".parse().unwrap();
        let (h, _) = done(&encode(ProxyProtocolVersion::V2, src6, dst6));
        assert_eq!(h.addrs, Some((src6, dst6)));
    }

    #[test]
    fn partial_plain_and_bad_headers() {
        assert!(matches!(parse(b"PROX", 512), Parse::More));
        assert!(matches!(parse(b"GET / HTTP/1.1", 512), Parse::NotProxy));
        assert!(matches!(parse(b"\x16\x03\x01", 512), Parse::NotProxy));
        assert!(matches!(
            parse(b"PROXY TCP4 1.2.3.4\r\n", 512),
            Parse::Bad(_)
        ));
        assert!(matches!(
            parse(b"PROXY TCP4 ::1 ::1 1 2\r\n", 512),
            Parse::Bad(_)
        ));
        let long = format!("PROXY TCP4 {}", "1".repeat(200));
        assert!(matches!(
            parse(long.as_bytes(), 512),
            Parse::Bad(Error::TooLarge(_))
        ));
        let mut big = V2_SIG.to_vec();
        big.extend_from_slice(&[0x21, 0x11, 0x10, 0x00]);
        assert!(matches!(parse(&big, 512), Parse::Bad(Error::TooLarge(_))));
    }
}
