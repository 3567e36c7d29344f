//! Kernel: sanitising HTML that users or outside sites supply (policy bodies,
//! product descriptions, crawled pages). ammonia keeps only harmless markup;
//! on top of that an `<img>` may only show a picture from our own origin (a
//! relative path or `messages.public_url`) or a `data:` URL, so a page body
//! cannot make every reader's browser call another server (tracking pixels,
//! requests to internal addresses).

use std::borrow::Cow;

/// Cleans `html` for display on our pages; `own_origin` is the portal's
/// address (`scheme://host[:port]`).
pub fn clean(html: &str, own_origin: &str) -> String {
    let own = own_origin.trim_end_matches('/').to_ascii_lowercase();
    let mut b = ammonia::Builder::default();
    let mut schemes = b.clone_url_schemes();
    schemes.insert("data");
    b.url_schemes(schemes);
    b.attribute_filter(move |element, attribute, value| {
        if element == "img" && attribute == "src" && !own_image(value, &own) {
            return None;
        }
        if attribute == "href" && value.trim_start().to_ascii_lowercase().starts_with("data:") {
            return None;
        }
        Some(Cow::Borrowed(value))
    });
    let out = b.clean(html).to_string();
    // An image whose source was dropped shows nothing; remove the empty tag as well.
    strip_bare_images(&out)
}

fn own_image(src: &str, own: &str) -> bool {
    let s = src.trim().to_ascii_lowercase();
    if s.starts_with("data:") {
        return s.starts_with("data:image/") && !s.starts_with("data:image/svg");
    }
    if s.starts_with("//") || s.starts_with("\\") {
        return false;
    }
    if s.starts_with('/') || !s.contains(':') {
        // A relative path: our own origin.
        return true;
    }
    !own.is_empty() && (s == own || s.starts_with(&format!("{own}/")))
}

fn strip_bare_images(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find("<img") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(end) = tail.find('>') else {
            out.push_str(tail);
            return out;
        };
        let tag = &tail[..=end];
        if tag.contains(" src=") {
            out.push_str(tag);
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_own_and_data_images_stay() {
        let own = "https://qifu.tongzhou.gov.cn";
        let html = r#"<p>正文</p><img src="https://tracker.example.com/p.gif"><img src="//evil.example/x.png"><img src="/uploads/a.png" alt="本站"><img src="https://qifu.tongzhou.gov.cn/static/b.png"><img src="data:image/png;base64,iVBORw0KGgo="><img src="http://10.0.0.1/x.png"><script>alert(1)</script>"#;
        let out = clean(html, own);
        assert!(!out.contains("tracker.example.com") && !out.contains("evil.example") && !out.contains("10.0.0.1"), "{out}");
        assert!(out.contains(r#"src="/uploads/a.png""#), "{out}");
        assert!(out.contains("https://qifu.tongzhou.gov.cn/static/b.png"), "{out}");
        assert!(out.contains("data:image/png;base64"), "{out}");
        assert!(!out.contains("<script"), "{out}");
        assert_eq!(out.matches("<img").count(), 3, "{out}");
        assert!(!clean(r#"<a href="data:text/html,x">x</a>"#, own).contains("data:"), "no data: links");
        assert!(!clean(r#"<img src="https://qifu.tongzhou.gov.cn.evil.example/x.png">"#, own).contains("evil"));
    }
}
