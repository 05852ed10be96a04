//! Emulators of the cloud APIs our connectors call, written from the vendors' public
//! documentation. Cloud APIs cannot be reached from CI, so the connectors are tested against
//! these; `lockstep-emulator` also runs them by hand, to try a CRM ↔ database package without
//! an account. Each emulator's module documentation lists what it implements and what not.
//!
//! Shared here: starting one on a port, counting API calls, and the injected faults
//! (429 with `Retry-After` every N calls, transient 503s).

pub mod dynamics;
pub mod faults;
pub mod hubspot;
pub mod salesforce;

use std::net::SocketAddr;

use tokio::task::JoinHandle;

pub use faults::Faults;

/// An emulator listening on a local port. Stops when dropped.
pub struct Running {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Running {
    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `router` on `addr` (port 0: any free port).
pub async fn serve(router: axum::Router, addr: SocketAddr) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "emulator stopped");
        }
    });
    Ok(Running { addr, task })
}
