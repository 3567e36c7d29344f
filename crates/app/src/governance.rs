//! Data governance (数据治理) of the enterprise base: every value written to an
//! enterprise record (一企一档) goes through [`records::apply`], which keeps its
//! source (registry, certification review, import, the enterprise, an operator)
//! and decides between disagreeing sources by the field's survivorship rule —
//! or sends the disagreement to a data clerk ([`reviews`]). Imports are staged
//! and committed in [`import`]; quality rules and scores are in [`quality`].

pub mod import;
pub mod quality;
pub mod records;
pub mod reviews;

pub use records::{FieldValue, Provenance};

/// The governance area's jobs.
pub fn register_jobs(r: &mut crate::jobs::JobRegistry) {
    r.register(|ctx: crate::Ctx, job: import::CommitImport| async move {
        let report = import::commit(&ctx, job.batch_id, job.by_user_id).await?;
        tracing::info!(batch = job.batch_id, ?report, "import committed");
        Ok(())
    });
    r.register(|ctx: crate::Ctx, _: quality::ScoreAll| async move {
        let n = quality::score_all(&ctx).await?;
        tracing::info!(records = n, "quality scores computed");
        Ok(())
    });
    r.register(|ctx: crate::Ctx, _: import::SyncRegistry| async move {
        // Nightly only from an outside registry; the local table is synced on request.
        if ctx.registry.name() != "http" {
            return Ok(());
        }
        let report = import::sync_registry(&ctx, None, None).await?;
        tracing::info!(?report, "registry synced");
        Ok(())
    });
    // 02:30 Beijing time (schedules are in UTC).
    r.schedule("quality_scores", "0 30 18 * * *", &quality::ScoreAll);
    // 01:30 Beijing time, before the scores.
    r.schedule("registry_sync", "0 30 17 * * *", &import::SyncRegistry);
}
