//! The message center: channels, message categories, delivery states,
//! broadcasts and the WeChat account's automatic replies and log.

use crate::stored::stored_enum;

stored_enum! {
    /// A way a message reaches a user.
    pub enum Channel in ["deliveries.channel", "delivery_attempts.channel", "message_preferences.channel"] {
        Inbox = "inbox" => "站内信",
        Sms = "sms" => "短信",
        Wechat = "wechat" => "微信",
        Email = "email" => "邮件",
    }
}

impl Channel {
    /// The channels besides the in-site message, in the order they are tried.
    pub const OUTSIDE: [Channel; 3] = [Channel::Sms, Channel::Wechat, Channel::Email];
}

stored_enum! {
    /// A kind of message a user can choose channels for.
    pub enum MessageCategory in [
        "messages.category",
        "message_preferences.category",
        "message_templates.category",
        "deliveries.category",
    ] {
        Demand = "demand" => "服务需求",
        Policy = "policy" => "政策推送",
        Certification = "certification" => "实名认证",
        Product = "product" => "服务产品",
        Authorization = "authorization" => "数据授权",
        Account = "account" => "账号与入驻",
        Broadcast = "broadcast" => "平台通知",
        Marketing = "marketing" => "活动推广",
    }
}

impl MessageCategory {
    /// Outside channels on until the user says otherwise.
    pub fn default_channels(self) -> &'static [Channel] {
        use Channel::*;
        match self {
            MessageCategory::Demand | MessageCategory::Certification | MessageCategory::Account => &[Sms, Wechat, Email],
            _ => &[Wechat, Email],
        }
    }

    /// Marketing honours unsubscribe.
    pub fn is_marketing(self) -> bool {
        self == MessageCategory::Marketing
    }
}

stored_enum! {
    /// Where one message on one channel is.
    pub enum DeliveryStatus in ["deliveries.status"] {
        Queued = "queued" => "待发送",
        /// Held back (quiet hours, rate limit) until its due time.
        Deferred = "deferred" => "顺延",
        Retrying = "retrying" => "重试中",
        Sending = "sending" => "发送中",
        Sent = "sent" => "已发送",
        Failed = "failed" => "发送失败",
        Skipped = "skipped" => "未发送",
    }
}

impl DeliveryStatus {
    /// Sent or given up on: nothing more happens.
    pub fn is_final(self) -> bool {
        matches!(self, DeliveryStatus::Sent | DeliveryStatus::Failed | DeliveryStatus::Skipped)
    }

    /// Waiting for a run to send it.
    pub const WAITING: [DeliveryStatus; 3] = [DeliveryStatus::Queued, DeliveryStatus::Deferred, DeliveryStatus::Retrying];
}

stored_enum! {
    /// The result of one attempt at a delivery.
    pub enum AttemptStatus in ["delivery_attempts.status"] {
        Ok = "ok" => "成功",
        Deferred = "deferred" => "顺延",
        Retrying = "retrying" => "重试中",
        Failed = "failed" => "发送失败",
        Skipped = "skipped" => "未发送",
    }
}

stored_enum! {
    /// What became of a text message written to the SMS outbox.
    pub enum SmsStatus in ["sms_outbox.status"] {
        Sent = "sent" => "已发送",
        /// Only written to the outbox (no provider configured).
        Logged = "logged" => "已记录",
        Failed = "failed" => "失败",
    }
}

stored_enum! {
    /// What an operator's broadcast is.
    pub enum BroadcastKind in ["broadcasts.kind"] {
        Notice = "notice" => "平台通知",
        /// Not sent to users who unsubscribed.
        Marketing = "marketing" => "活动推广",
    }
}

impl BroadcastKind {
    /// The message category (and template key) of its messages.
    pub fn category(self) -> MessageCategory {
        match self {
            BroadcastKind::Notice => MessageCategory::Broadcast,
            BroadcastKind::Marketing => MessageCategory::Marketing,
        }
    }
}

stored_enum! {
    /// Where a broadcast is.
    pub enum BroadcastStatus in ["broadcasts.status"] {
        Scheduled = "scheduled" => "待发送",
        Sending = "sending" => "发送中",
        Sent = "sent" => "已发送",
        Cancelled = "cancelled" => "已取消",
    }
}

stored_enum! {
    /// How an automatic reply's keyword matches a message.
    pub enum ReplyMatch in ["wechat_auto_replies.match_kind"] {
        Exact = "exact" => "完全匹配",
        Contains = "contains" => "包含关键词",
    }
}

stored_enum! {
    /// What an automatic reply sends.
    pub enum ReplyKind in ["wechat_auto_replies.reply_kind"] {
        Text = "text" => "文字",
        /// The latest policies as an article list; the content filters them.
        Policies = "policies" => "最新政策（图文）",
    }
}

stored_enum! {
    /// An entry of the WeChat server endpoint's log.
    pub enum WechatLogKind in ["wechat_logs.kind"] {
        BadSignature = "bad_signature" => "签名校验失败",
        Text = "text" => "文本消息",
        Subscribe = "subscribe" => "关注",
        Unsubscribe = "unsubscribe" => "取消关注",
        Scan = "scan" => "扫码",
        Click = "click" => "点击菜单",
        View = "view" => "打开菜单链接",
        Other = "other" => "其他",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.code()), Some(c));
        }
        for c in MessageCategory::ALL {
            assert_eq!(MessageCategory::parse(c.code()), Some(c));
        }
        for s in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(s.code()), Some(s));
        }
        for s in AttemptStatus::ALL {
            assert_eq!(AttemptStatus::parse(s.code()), Some(s));
        }
        for k in WechatLogKind::ALL {
            assert_eq!(WechatLogKind::parse(k.code()), Some(k));
        }
        assert!(MessageCategory::Marketing.is_marketing());
        assert_eq!(BroadcastKind::Marketing.category(), MessageCategory::Marketing);
    }
}
