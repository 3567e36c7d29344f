//! The context every use case receives: database, settings and clock.

use crate::clock::Clock;
use crate::config::Settings;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Ctx {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
}

impl Ctx {
    pub fn new(db: DatabaseConnection, settings: Arc<Settings>, clock: Arc<dyn Clock>) -> Self {
        Ctx {
            db,
            settings,
            clock,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
