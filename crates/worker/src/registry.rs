//! Job handlers by kind.

use anyhow::Context;
use qifu_app::Ctx;
use qifu_app::jobs::{CheckOverdueDemands, Job, PruneJobs, PruneSessions, SendSmsNotice};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

type BoxFut = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;
type Handler = Arc<dyn Fn(Ctx, String) -> BoxFut + Send + Sync>;

#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Handler>,
}

impl Registry {
    /// The handlers of every job kind qifu defines.
    pub fn standard() -> Self {
        let mut r = Registry::default();
        r.register(|ctx: Ctx, _: PruneJobs| async move {
            let n = qifu_app::system::prune_jobs(&ctx).await?;
            tracing::info!(deleted = n, "pruned finished jobs");
            Ok(())
        });
        r.register(|ctx: Ctx, _: PruneSessions| async move {
            let n = qifu_app::system::prune_sessions(&ctx).await?;
            tracing::info!(deleted = n, "pruned expired sessions");
            Ok(())
        });
        r.register(|ctx: Ctx, _: CheckOverdueDemands| async move {
            let (reminded, escalated) = qifu_app::demands::check_overdue(&ctx).await?;
            tracing::info!(reminded, escalated, "checked overdue demands");
            Ok(())
        });
        r.register(|ctx: Ctx, job: qifu_app::policies::PushPolicy| async move {
            let r = qifu_app::policies::push_policy(&ctx, &job).await?;
            tracing::info!(policy = job.policy_id, version = job.version, ?r, "policy pushed");
            Ok(())
        });
        r.register(|ctx: Ctx, job: qifu_app::policies::RematchEnterprise| async move {
            let r = qifu_app::policies::rematch_enterprise(&ctx, &job).await?;
            tracing::info!(enterprise = job.enterprise_id, ?r, "enterprise re-matched");
            Ok(())
        });
        r.register(|ctx: Ctx, job: qifu_app::crawl::CrawlSource| async move {
            let r = qifu_app::crawl::run(&ctx, job.source_id).await?;
            tracing::info!(source = job.source_id, ?r, "policy source crawled");
            Ok(())
        });
        r.register(|ctx: Ctx, _: qifu_app::crawl::CrawlAll| async move {
            let n = qifu_app::crawl::enqueue_all(&ctx).await?;
            tracing::info!(sources = n, "policy crawls enqueued");
            Ok(())
        });
        r.register(|ctx: Ctx, job: qifu_app::messages::center::Deliver| async move {
            qifu_app::messages::center::deliver(&ctx, &job).await?;
            Ok(())
        });
        r.register(|ctx: Ctx, job: qifu_app::messages::broadcasts::SendBroadcast| async move {
            let n = qifu_app::messages::broadcasts::send(&ctx, &job).await?;
            tracing::info!(broadcast = job.broadcast_id, recipients = n, "broadcast sent");
            Ok(())
        });
        r.register(|ctx: Ctx, job: SendSmsNotice| async move {
            let sent = qifu_app::messages::send_sms_notice(&ctx, &job).await?;
            tracing::debug!(user = job.user_id, sent, "SMS notice");
            Ok(())
        });
        r
    }

    /// Registers the handler of job type `J`, replacing any earlier one.
    pub fn register<J, F, Fut>(&mut self, f: F)
    where
        J: Job,
        F: Fn(Ctx, J) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let f = Arc::new(f);
        self.handlers.insert(
            J::KIND,
            Arc::new(move |ctx, payload| {
                let f = f.clone();
                Box::pin(async move {
                    let job: J = serde_json::from_str(&payload).with_context(|| format!("任务参数无法解析 ({})", J::KIND))?;
                    f(ctx, job).await
                })
            }),
        );
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k: Vec<_> = self.handlers.keys().copied().collect();
        k.sort_unstable();
        k
    }

    /// Runs a job in its own task so that a panic becomes an ordinary failure.
    pub async fn run(&self, ctx: Ctx, kind: &str, payload: String) -> anyhow::Result<()> {
        let Some(h) = self.handlers.get(kind).cloned() else {
            anyhow::bail!("没有处理此类任务的程序：{kind}");
        };
        match tokio::spawn(async move { h(ctx, payload).await }).await {
            Ok(r) => r,
            Err(e) if e.is_panic() => anyhow::bail!("任务处理程序崩溃 (panic)"),
            Err(e) => Err(anyhow::anyhow!("任务被取消：{e}")),
        }
    }
}
