//! Portal content: news, announcements and activities.

use crate::stored::stored_enum;

stored_enum! {
    /// What an article is.
    pub enum ArticleKind in ["articles.kind"] {
        News = "news" => "资讯",
        Announcement = "announcement" => "公告",
    }
}

stored_enum! {
    /// What an activity is.
    pub enum ActivityKind in ["activities.kind"] {
        Training = "training" => "培训",
        Activity = "activity" => "活动",
    }
}

stored_enum! {
    /// Whether an article or activity is shown on the portal.
    pub enum ContentState in ["articles.status", "activities.status"] {
        Draft = "draft" => "草稿",
        Published = "published" => "已发布",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for k in ArticleKind::ALL {
            assert_eq!(ArticleKind::parse(k.code()), Some(k));
        }
        for k in ActivityKind::ALL {
            assert_eq!(ActivityKind::parse(k.code()), Some(k));
        }
        for s in ContentState::ALL {
            assert_eq!(ContentState::parse(s.code()), Some(s));
        }
    }
}
