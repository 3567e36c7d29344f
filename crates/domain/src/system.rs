//! System records: the job queue and the audit log.

use crate::stored::stored_enum;

stored_enum! {
    /// Where a job on the queue is.
    pub enum JobStatus in ["jobs.status"] {
        Queued = "queued" => "排队中",
        Running = "running" => "执行中",
        Done = "done" => "已完成",
        /// Out of attempts; an operator may put it back on the queue.
        Dead = "dead" => "已失败",
    }
}

stored_enum! {
    /// The result an audit log entry records.
    pub enum AuditResult in ["audit_log.result"] {
        Ok = "ok" => "成功",
        /// Refused: an authorisation failure recorded at the web boundary.
        Denied = "denied" => "拒绝",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::parse(s.code()), Some(s));
        }
        assert_eq!(AuditResult::parse("ok"), Some(AuditResult::Ok));
    }
}
