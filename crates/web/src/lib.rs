//! qifu's HTTP layer: the portal and back-office pages, the JSON API, health
//! and metrics. One module per business area (its routes, handlers, page
//! structs; its templates in `templates/<area>/`), sharing the `kit`. Handlers
//! are thin: a guard says who may call, one `app` use case (or a `db` read
//! model) does the work, a page renders it. `router.rs` mounts every area.

mod assets;
mod error;
mod extract;
pub mod guard;
mod kit;
mod middleware;
pub mod openapi;
mod router;

mod accounts;
mod authorization;
mod catalog;
mod certification;
mod content;
mod demands;
mod governance;
mod home;
mod messages;
mod policies;
mod profiles;
mod search;
mod system;

pub use router::{router, router_with};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use qifu_app::Ctx;
use std::sync::{Arc, OnceLock};
use tokio::net::TcpListener;

/// Shared state of the web layer.
#[derive(Clone)]
pub struct AppState {
    pub ctx: Ctx,
    pub(crate) assets: Arc<assets::Assets>,
    pub(crate) metrics: PrometheusHandle,
    /// The policy list's filter options (issuers, tags), kept while the public
    /// policies are unchanged: recomputing them reads every policy.
    pub(crate) policy_facets: Arc<std::sync::Mutex<Option<PolicyFacets>>>,
    /// The portal home's headline figures, at most a minute old (counting
    /// 130,000 enterprises on every view was the home page's main cost).
    pub(crate) home_counts: Arc<std::sync::Mutex<Option<(std::time::Instant, qifu_db::read::Counts)>>>,
}

/// Cached filter options and the key they were computed for.
#[derive(Clone)]
pub(crate) struct PolicyFacets {
    pub key: qifu_db::read::PolicyFacetsKey,
    pub issuers: Arc<Vec<String>>,
    pub tags: Arc<Vec<String>>,
}

impl AppState {
    pub fn new(ctx: Ctx) -> Self {
        AppState {
            ctx,
            assets: Arc::new(assets::Assets::load()),
            metrics: metrics_handle(),
            policy_facets: Arc::default(),
            home_counts: Arc::default(),
        }
    }

    /// The headline figures for the portal home: cached for 60 seconds.
    pub(crate) async fn home_counts(&self) -> Result<qifu_db::read::Counts, sea_orm::DbErr> {
        const FRESH: std::time::Duration = std::time::Duration::from_secs(60);
        if let Some((at, c)) = self.home_counts.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
            && at.elapsed() < FRESH
        {
            return Ok(c.clone());
        }
        let c = qifu_db::read::home_counts(&self.ctx.db).await?;
        *self.home_counts.lock().unwrap_or_else(|p| p.into_inner()) = Some((std::time::Instant::now(), c.clone()));
        Ok(c)
    }

    /// The policy list's issuers and tags: cached, recomputed when a public policy
    /// is added, changed or withdrawn (checked with one aggregate query, so every
    /// node sees changes made on another at once).
    pub(crate) async fn policy_facets(&self) -> Result<(Arc<Vec<String>>, Arc<Vec<String>>), sea_orm::DbErr> {
        let key = qifu_db::read::policy_facets_key(&self.ctx.db).await?;
        if let Some(f) = self.policy_facets.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
            && f.key == key
        {
            return Ok((f.issuers.clone(), f.tags.clone()));
        }
        let issuers = Arc::new(qifu_db::read::policy_issuers(&self.ctx.db).await?);
        let tags = Arc::new(qifu_db::read::policy_tags(&self.ctx.db, 30).await?);
        *self.policy_facets.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(PolicyFacets { key, issuers: issuers.clone(), tags: tags.clone() });
        Ok((issuers, tags))
    }
}

/// The process-wide Prometheus recorder (installed once).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
            let builder = PrometheusBuilder::new();
            let builder = match builder.set_buckets(&buckets) {
                Ok(b) => b,
                Err(_) => PrometheusBuilder::new(),
            };
            match builder.install_recorder() {
                Ok(h) => h,
                // Another recorder is installed (only in unusual embeddings): keep a private one.
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            }
        })
        .clone()
}

/// Serves until `shutdown` resolves.
pub async fn serve<F>(listener: TcpListener, state: AppState, shutdown: F) -> std::io::Result<()>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let app = router(state);
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
