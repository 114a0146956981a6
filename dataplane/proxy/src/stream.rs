//! Stream mode and upgraded connections: bytes copied both ways until either side closes or
//! nothing moves for the idle timeout. Bytes only: which backend to dial is the caller's.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bfe_config::tls::ProxyProtocolVersion;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const BUF: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("backend connect to {0} failed: {1}")]
    Connect(std::sync::Arc<str>, io::Error),
    #[error("backend connect to {0} timed out")]
    ConnectTimeout(std::sync::Arc<str>),
    #[error("idle for {0:?}")]
    Idle(Duration),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Dials `addr`, sends a PROXY header for `client` → `vip` when asked, then splices.
pub async fn proxy<C>(
    client: C,
    addr: std::sync::Arc<str>,
    connect_timeout: Duration,
    proxy_protocol: Option<(ProxyProtocolVersion, SocketAddr, SocketAddr)>,
    idle: Duration,
) -> Result<(u64, u64), StreamError>
where
    C: AsyncRead + AsyncWrite + Unpin,
{
    let mut backend = match tokio::time::timeout(connect_timeout, TcpStream::connect(&*addr)).await
    {
        Err(_) => return Err(StreamError::ConnectTimeout(addr)),
        Ok(Err(e)) => return Err(StreamError::Connect(addr, e)),
        Ok(Ok(s)) => s,
    };
    let _ = backend.set_nodelay(true);
    if let Some((version, src, dst)) = proxy_protocol {
        backend
            .write_all(&crate::proxy_protocol::encode(version, src, dst))
            .await?;
    }
    splice(client, backend, idle).await
}

/// Copies both ways; ends when both directions finished, on an error, or after `idle`
/// without a byte either way. Returns the bytes copied (a → b, b → a).
pub async fn splice<A, B>(a: A, b: B, idle: Duration) -> Result<(u64, u64), StreamError>
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let (mut ar, mut aw) = tokio::io::split(a);
    let (mut br, mut bw) = tokio::io::split(b);
    let (mut abuf, mut bbuf) = (vec![0u8; BUF], vec![0u8; BUF]);
    let (mut a_open, mut b_open) = (true, true);
    let (mut up, mut down) = (0u64, 0u64);
    while a_open || b_open {
        let step = tokio::time::timeout(idle, async {
            tokio::select! {
                r = ar.read(&mut abuf), if a_open => {
                    let n = r?;
                    if n == 0 {
                        bw.shutdown().await?;
                    } else {
                        bw.write_all(&abuf[..n]).await?;
                    }
                    Ok::<_, io::Error>(Step::Up(n))
                }
                r = br.read(&mut bbuf), if b_open => {
                    let n = r?;
                    if n == 0 {
                        aw.shutdown().await?;
                    } else {
                        aw.write_all(&bbuf[..n]).await?;
                    }
                    Ok(Step::Down(n))
                }
            }
        })
        .await;
        match step {
            Err(_) => return Err(StreamError::Idle(idle)),
            Ok(Err(e)) => return Err(e.into()),
            Ok(Ok(Step::Up(0))) => a_open = false,
            Ok(Ok(Step::Down(0))) => b_open = false,
            Ok(Ok(Step::Up(n))) => up += n as u64,
            Ok(Ok(Step::Down(n))) => down += n as u64,
        }
    }
    Ok((up, down))
}

/// Bytes moved by one step: client → backend (`Up`) or back (`Down`); 0 means that side ended.
enum Step {
    Up(usize),
    Down(usize),
}
