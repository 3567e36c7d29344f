//! Fault injection for tests: a server that accepts connections and never
//! answers (an SMTP, HTTP or database peer that hangs), and a TCP proxy that
//! passes traffic until told to stall it or cut every connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Accepts every connection, reads nothing and writes nothing, and keeps it open.
pub struct HangingServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl HangingServer {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                held.push(s);
            }
        });
        Ok(HangingServer { addr, accepted, task })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for HangingServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const PASS: u8 = 0;
const STALL: u8 = 1;
const CUT: u8 = 2;

/// A TCP proxy to `upstream`: passes bytes both ways; [`TcpProxy::stall`] stops
/// forwarding (connections stay open, nothing moves), [`TcpProxy::cut`] closes
/// every connection and refuses new ones, [`TcpProxy::pass`] restores traffic.
pub struct TcpProxy {
    addr: SocketAddr,
    mode: Arc<AtomicU8>,
    changed: Arc<Notify>,
    task: JoinHandle<()>,
}

impl TcpProxy {
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mode = Arc::new(AtomicU8::new(PASS));
        let changed = Arc::new(Notify::new());
        let (m, c) = (mode.clone(), changed.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if m.load(Ordering::SeqCst) == CUT {
                    drop(client);
                    continue;
                }
                let (m, c) = (m.clone(), c.clone());
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        pipe(client, server, m, c).await;
                    }
                });
            }
        });
        Ok(TcpProxy { addr, mode, changed, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn pass(&self) {
        self.mode.store(PASS, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    pub fn stall(&self) {
        self.mode.store(STALL, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    pub fn cut(&self) {
        self.mode.store(CUT, Ordering::SeqCst);
        self.changed.notify_waiters();
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pipe(client: TcpStream, server: TcpStream, mode: Arc<AtomicU8>, changed: Arc<Notify>) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = copy_gated(&mut cr, &mut sw, mode.clone(), changed.clone());
    let down = copy_gated(&mut sr, &mut cw, mode, changed);
    tokio::select! {
        _ = up => {}
        _ = down => {}
    }
    let _ = cw.shutdown().await;
    let _ = sw.shutdown().await;
}

/// Copies until EOF or a cut; while stalled, holds what it read.
async fn copy_gated<R, W>(r: &mut R, w: &mut W, mode: Arc<AtomicU8>, changed: Arc<Notify>)
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            r = r.read(&mut buf) => match r { Ok(0) | Err(_) => return, Ok(n) => n },
            _ = wait_for(&mode, &changed, CUT) => return,
        };
        loop {
            // Created before the check: a change in between still wakes it.
            let notified = changed.notified();
            match mode.load(Ordering::SeqCst) {
                CUT => return,
                STALL => notified.await,
                _ => break,
            }
        }
        if w.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

async fn wait_for(mode: &AtomicU8, changed: &Notify, want: u8) {
    loop {
        let notified = changed.notified();
        if mode.load(Ordering::SeqCst) == want {
            return;
        }
        notified.await;
    }
}
