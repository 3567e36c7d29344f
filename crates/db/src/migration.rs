//! Backend-neutral migrations. Only ever add a migration; never edit one that has landed.

use sea_orm_migration::prelude::*;

mod m20261129_000001_foundation;
mod m20261129_000002_accounts;
mod m20261129_000003_certification;
mod m20261129_000004_products;
mod m20261129_000005_demands;
mod m20261129_000006_onboarding;
mod m20261129_000007_search;
mod m20261129_000008_policy_rules;
mod m20261129_000009_crawl;
mod m20261129_000010_message_center;
mod m20261129_000011_policy_list_index;
mod m20261201_000012_system_meta;
mod m20261201_000013_category_kind;
mod m20261201_000014_idempotency_keys;
mod m20261201_000020_audit_append_only;
mod m20261201_000021_wechat_replay;
mod m20261201_000030_enterprise_records;
mod m20261201_000031_second_factor_guard;
mod util;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_foundation::Migration),
            Box::new(m20261129_000002_accounts::Migration),
            Box::new(m20261129_000003_certification::Migration),
            Box::new(m20261129_000004_products::Migration),
            Box::new(m20261129_000005_demands::Migration),
            Box::new(m20261129_000006_onboarding::Migration),
            Box::new(m20261129_000007_search::Migration),
            Box::new(m20261129_000008_policy_rules::Migration),
            Box::new(m20261129_000009_crawl::Migration),
            Box::new(m20261129_000010_message_center::Migration),
            Box::new(m20261129_000011_policy_list_index::Migration),
            Box::new(m20261201_000012_system_meta::Migration),
            Box::new(m20261201_000013_category_kind::Migration),
            Box::new(m20261201_000014_idempotency_keys::Migration),
            Box::new(m20261201_000020_audit_append_only::Migration),
            Box::new(m20261201_000021_wechat_replay::Migration),
            Box::new(m20261201_000030_enterprise_records::Migration),
            Box::new(m20261201_000031_second_factor_guard::Migration),
        ]
    }
}
