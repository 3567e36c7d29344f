//! The demand lifecycle (需求) and the product publishing review, as state
//! machines: every transition is decided here, in one place.
//!
//! Demand: submitted → accepted (a staff member assigned) or declined (reason)
//! → in service → delivered (proof uploaded) → confirmed by the enterprise →
//! closed; the enterprise may withdraw before acceptance; the operator may
//! reassign a demand that is not yet accepted to another institution.

use crate::stored::stored_enum;

stored_enum! {
    /// Where a demand is in its lifecycle.
    pub enum DemandState in ["demands.status", "demand_events.to_status"] {
        Submitted = "submitted" => "已提交",
        Accepted = "accepted" => "已受理",
        Declined = "declined" => "不予受理",
        InService = "in_service" => "服务中",
        Delivered = "delivered" => "已交付",
        Confirmed = "confirmed" => "已确认",
        Closed = "closed" => "已办结",
        Withdrawn = "withdrawn" => "已撤回",
    }
}

impl DemandState {
    /// No further transitions.
    pub fn is_final(self) -> bool {
        matches!(self, DemandState::Declined | DemandState::Closed | DemandState::Withdrawn)
    }

    /// Waiting for the institution to accept or decline (counts toward overdue).
    pub fn awaits_acceptance(self) -> bool {
        self == DemandState::Submitted
    }
}

stored_enum! {
    /// Who acts on a demand (and which side wrote a message on it).
    pub enum Party in ["demand_messages.side"] {
        Enterprise = "enterprise" => "企业",
        Institution = "institution" => "服务机构",
        Operator = "operator" => "运营方",
    }
}

stored_enum! {
    /// What a demand asks for: a service, or financing (the product's
    /// category is of the financing kind and the demand carries amount, term …).
    pub enum DemandKind in ["demands.kind"] {
        Service = "service" => "服务",
        Financing = "financing" => "融资",
    }
}

impl DemandKind {
    pub fn is_financing(self) -> bool {
        self == DemandKind::Financing
    }
}

stored_enum! {
    /// An entry of a demand's history: the transitions and what else happened.
    pub enum HistoryEvent in ["demand_events.event"] {
        Submit = "submit" => "提交需求",
        Accept = "accept" => "受理",
        Decline = "decline" => "不予受理",
        Start = "start" => "开始服务",
        Deliver = "deliver" => "交付",
        Confirm = "confirm" => "企业确认",
        Close = "close" => "办结",
        Withdraw = "withdraw" => "撤回",
        Reassign = "reassign" => "改派",
        Remind = "remind" => "超时催办",
        Escalate = "escalate" => "超时升级",
        Rate = "rate" => "评价",
    }
}

impl From<DemandEvent> for HistoryEvent {
    fn from(e: DemandEvent) -> Self {
        match e {
            DemandEvent::Accept => HistoryEvent::Accept,
            DemandEvent::Decline => HistoryEvent::Decline,
            DemandEvent::Start => HistoryEvent::Start,
            DemandEvent::Deliver => HistoryEvent::Deliver,
            DemandEvent::Confirm => HistoryEvent::Confirm,
            DemandEvent::Close => HistoryEvent::Close,
            DemandEvent::Withdraw => HistoryEvent::Withdraw,
            DemandEvent::Reassign => HistoryEvent::Reassign,
        }
    }
}

/// What can happen to a demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DemandEvent {
    Accept,
    Decline,
    Start,
    Deliver,
    Confirm,
    Close,
    Withdraw,
    /// The operator moves a not-yet-accepted demand to another institution.
    Reassign,
}

impl DemandEvent {
    pub const ALL: [DemandEvent; 8] = [
        DemandEvent::Accept,
        DemandEvent::Decline,
        DemandEvent::Start,
        DemandEvent::Deliver,
        DemandEvent::Confirm,
        DemandEvent::Close,
        DemandEvent::Withdraw,
        DemandEvent::Reassign,
    ];

    pub fn label(self) -> &'static str {
        match self {
            DemandEvent::Accept => "受理",
            DemandEvent::Decline => "不予受理",
            DemandEvent::Start => "开始服务",
            DemandEvent::Deliver => "交付",
            DemandEvent::Confirm => "确认",
            DemandEvent::Close => "办结",
            DemandEvent::Withdraw => "撤回",
            DemandEvent::Reassign => "改派",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("需求当前为“{state}”，不能{event}")]
    NotAllowed { state: &'static str, event: &'static str },
    #[error("只有{who}可以{event}")]
    WrongParty { who: &'static str, event: &'static str },
}

fn party_label(p: Party) -> &'static str {
    match p {
        Party::Enterprise => "提出需求的企业",
        Party::Institution => "受理需求的服务机构",
        Party::Operator => "运营方",
    }
}

/// The one transition function of the demand lifecycle.
pub fn next(state: DemandState, event: DemandEvent, by: Party) -> Result<DemandState, TransitionError> {
    use DemandEvent as E;
    use DemandState as S;
    let (allowed_from, to, who): (&[S], S, Party) = match event {
        E::Accept => (&[S::Submitted], S::Accepted, Party::Institution),
        E::Decline => (&[S::Submitted], S::Declined, Party::Institution),
        E::Start => (&[S::Accepted], S::InService, Party::Institution),
        E::Deliver => (&[S::InService], S::Delivered, Party::Institution),
        E::Confirm => (&[S::Delivered], S::Confirmed, Party::Enterprise),
        E::Close => (&[S::Confirmed], S::Closed, Party::Institution),
        E::Withdraw => (&[S::Submitted], S::Withdrawn, Party::Enterprise),
        E::Reassign => (&[S::Submitted], S::Submitted, Party::Operator),
    };
    if by != who {
        return Err(TransitionError::WrongParty { who: party_label(who), event: event.label() });
    }
    if !allowed_from.contains(&state) {
        return Err(TransitionError::NotAllowed { state: state.label(), event: event.label() });
    }
    Ok(to)
}

stored_enum! {
    /// The product publishing review.
    pub enum ProductState in ["products.status"] {
        Draft = "draft" => "草稿",
        Submitted = "submitted" => "待审核",
        Rejected = "rejected" => "已驳回",
        Online = "online" => "已上架",
        Offline = "offline" => "已下架",
    }
}

impl ProductState {
    /// The institution may still edit it and send it for review.
    pub fn is_editable_draft(self) -> bool {
        matches!(self, ProductState::Draft | ProductState::Rejected)
    }

    /// Approved once: online or taken offline.
    pub fn is_listed(self) -> bool {
        matches!(self, ProductState::Online | ProductState::Offline)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProductEvent {
    Submit,
    Approve,
    Reject,
    TakeOffline,
    PutOnline,
}

impl ProductEvent {
    pub const ALL: [ProductEvent; 5] =
        [ProductEvent::Submit, ProductEvent::Approve, ProductEvent::Reject, ProductEvent::TakeOffline, ProductEvent::PutOnline];

    pub fn label(self) -> &'static str {
        match self {
            ProductEvent::Submit => "提交审核",
            ProductEvent::Approve => "审核通过",
            ProductEvent::Reject => "驳回",
            ProductEvent::TakeOffline => "下架",
            ProductEvent::PutOnline => "上架",
        }
    }
}

/// Publishing review: draft or rejected → submitted → online (approved) or
/// rejected; online ⇄ offline. Editing a listed product is a revision that goes
/// through its own review while this state stays online.
pub fn next_product(state: ProductState, event: ProductEvent) -> Result<ProductState, TransitionError> {
    use ProductEvent as E;
    use ProductState as S;
    let to = match (state, event) {
        (S::Draft | S::Rejected, E::Submit) => S::Submitted,
        (S::Submitted, E::Approve) => S::Online,
        (S::Submitted, E::Reject) => S::Rejected,
        (S::Online, E::TakeOffline) => S::Offline,
        (S::Offline, E::PutOnline) => S::Online,
        _ => return Err(TransitionError::NotAllowed { state: state.label(), event: event.label() }),
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use DemandEvent as E;
    use DemandState as S;

    /// The complete table of legal demand transitions: (from, event, by, to).
    const LEGAL: &[(S, E, Party, S)] = &[
        (S::Submitted, E::Accept, Party::Institution, S::Accepted),
        (S::Submitted, E::Decline, Party::Institution, S::Declined),
        (S::Submitted, E::Withdraw, Party::Enterprise, S::Withdrawn),
        (S::Submitted, E::Reassign, Party::Operator, S::Submitted),
        (S::Accepted, E::Start, Party::Institution, S::InService),
        (S::InService, E::Deliver, Party::Institution, S::Delivered),
        (S::Delivered, E::Confirm, Party::Enterprise, S::Confirmed),
        (S::Confirmed, E::Close, Party::Institution, S::Closed),
    ];

    #[test]
    fn every_legal_transition() {
        for &(from, ev, by, to) in LEGAL {
            assert_eq!(next(from, ev, by), Ok(to), "{from:?} --{ev:?}/{by:?}-->");
        }
    }

    #[test]
    fn every_other_transition_is_refused() {
        let parties = [Party::Enterprise, Party::Institution, Party::Operator];
        let mut refused = 0;
        for from in S::ALL {
            for ev in E::ALL {
                for by in parties {
                    if LEGAL.iter().any(|&(f, e, b, _)| f == from && e == ev && b == by) {
                        continue;
                    }
                    let r = next(from, ev, by);
                    assert!(r.is_err(), "{from:?} --{ev:?}/{by:?}--> should be refused, got {r:?}");
                    refused += 1;
                }
            }
        }
        assert_eq!(refused, 8 * 8 * 3 - LEGAL.len());
    }

    #[test]
    fn final_states_have_no_way_out() {
        for from in S::ALL.into_iter().filter(|s| s.is_final()) {
            for ev in E::ALL {
                for by in [Party::Enterprise, Party::Institution, Party::Operator] {
                    assert!(next(from, ev, by).is_err());
                }
            }
        }
    }

    #[test]
    fn messages_name_the_problem() {
        let e = next(S::Accepted, E::Withdraw, Party::Enterprise).unwrap_err().to_string();
        assert_eq!(e, "需求当前为“已受理”，不能撤回");
        let e = next(S::Submitted, E::Accept, Party::Enterprise).unwrap_err().to_string();
        assert_eq!(e, "只有受理需求的服务机构可以受理");
    }

    #[test]
    fn product_review_every_transition() {
        use ProductEvent as P;
        use ProductState as Q;
        let legal = [
            (Q::Draft, P::Submit, Q::Submitted),
            (Q::Rejected, P::Submit, Q::Submitted),
            (Q::Submitted, P::Approve, Q::Online),
            (Q::Submitted, P::Reject, Q::Rejected),
            (Q::Online, P::TakeOffline, Q::Offline),
            (Q::Offline, P::PutOnline, Q::Online),
        ];
        for from in Q::ALL {
            for ev in P::ALL {
                let want = legal.iter().find(|(f, e, _)| *f == from && *e == ev).map(|(_, _, t)| *t);
                match want {
                    Some(to) => assert_eq!(next_product(from, ev), Ok(to)),
                    None => assert!(next_product(from, ev).is_err(), "{from:?} --{ev:?}"),
                }
            }
        }
    }

    #[test]
    fn codes_round_trip() {
        for s in S::ALL {
            assert_eq!(DemandState::parse(s.code()), Some(s));
        }
        for s in ProductState::ALL {
            assert_eq!(ProductState::parse(s.code()), Some(s));
        }
    }
}

/// Adds `n` working days (Monday to Friday) to a date. Public holidays are not
/// modelled; the deadline errs on the early side around them.
pub fn add_working_days(date: chrono::NaiveDate, n: u32) -> chrono::NaiveDate {
    use chrono::{Datelike, Weekday};
    let mut d = date;
    let mut left = n;
    while left > 0 {
        d = d.succ_opt().unwrap_or(d);
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    d
}

#[cfg(test)]
mod working_day_tests {
    use super::add_working_days;
    use chrono::NaiveDate;

    #[test]
    fn weekends_are_skipped() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(add_working_days(d(2026, 11, 27), 3), d(2026, 12, 2)); // Fri + 3 → Wed
        assert_eq!(add_working_days(d(2026, 11, 30), 3), d(2026, 12, 3)); // Mon + 3 → Thu
        assert_eq!(add_working_days(d(2026, 11, 28), 1), d(2026, 11, 30)); // Sat + 1 → Mon
        assert_eq!(add_working_days(d(2026, 11, 30), 0), d(2026, 11, 30));
    }
}
