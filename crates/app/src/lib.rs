//! qifu use cases. This is the only layer that writes; every use case takes the
//! acting user and checks permission and data scope here, never in templates.

pub mod accounts;
pub mod actor;
pub mod attachments;
pub mod audit;
pub mod authorization;
pub mod catalog;
pub mod certification;
pub mod clock;
pub mod config;
pub mod context;
pub mod crawl;
pub mod crypto;
pub mod demands;
pub mod demo;
pub mod export;
pub mod files;
pub mod governance;
pub mod html;
pub mod idempotency;
pub mod index;
pub mod integrations;
pub mod jobs;
pub mod messages;
pub mod netguard;
pub mod outbox;
pub mod policies;
pub mod portrait;
pub mod profiles;
pub mod search;
pub mod signing;
pub mod system;

pub use clock::{Clock, ManualClock, SystemClock};

/// Every area's background jobs and cron schedules, one line per area.
pub fn job_registry() -> jobs::JobRegistry {
    let mut r = jobs::JobRegistry::default();
    system::register_jobs(&mut r);
    demands::register_jobs(&mut r);
    policies::register_jobs(&mut r);
    crawl::register_jobs(&mut r);
    messages::register_jobs(&mut r);
    governance::register_jobs(&mut r);
    audit::register_jobs(&mut r);
    files::register_jobs(&mut r);
    r
}
pub use config::Settings;
pub use context::{Ctx, Meta};
