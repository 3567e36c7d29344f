//! Kernel: network address rules.
//!
//! - [`Outbound`]: every outside fetch whose address a user sets (crawl
//!   sources) goes through it. A URL must be `http(s)`, carry no user info and
//!   name its host plainly (no decimal, octal or hex IP forms); the host is
//!   resolved once, every address it resolves to must be public (not loopback,
//!   link-local, private — RFC 1918, CGNAT, ULA —, unspecified, multicast,
//!   this host's own, or the database's host) unless `crawl.allow_hosts` names
//!   it, and the connection goes to that checked address only (pinned, so a
//!   second DNS answer cannot rebind it). Redirects are followed here, one hop
//!   at a time, each checked the same way.
//! - [`Cidr`] and [`client_ip`]: which X-Forwarded-For entry to believe.

use reqwest::Url;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// An address block, `10.0.0.0/8` or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, p)) => (ip.parse::<IpAddr>().ok()?, p.parse::<u8>().ok()?),
            None => {
                let ip = s.parse::<IpAddr>().ok()?;
                (ip, if ip.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr { net: ip, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(self.prefix)) };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix)) };
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// The client's address: the peer's, unless the peer is a trusted proxy; then
/// the right-most X-Forwarded-For entry that is not itself a trusted proxy
/// (entries to its left are whatever the client chose to send).
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let Some(header) = forwarded_for else { return peer };
    let mut last = peer;
    for entry in header.rsplit(',') {
        let Ok(ip) = entry.trim().parse::<IpAddr>() else {
            // An unreadable entry: nothing to its left can be trusted.
            return last;
        };
        if !is_trusted(ip) {
            return ip;
        }
        last = ip;
    }
    last
}

/// Why an address may not be fetched, if it may not.
pub fn internal_reason(ip: IpAddr) -> Option<&'static str> {
    match canonical(ip) {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_loopback() {
        Some("回环地址")
    } else if ip.is_unspecified() || o[0] == 0 {
        Some("未指定地址")
    } else if ip.is_private() {
        Some("内网地址")
    } else if o[0] == 100 && (64..128).contains(&o[1]) {
        Some("运营商级内网地址（CGNAT）")
    } else if ip.is_link_local() {
        Some("链路本地地址")
    } else if ip.is_multicast() || ip.is_broadcast() || o[0] >= 240 {
        Some("组播或保留地址")
    } else {
        None
    }
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let seg0 = ip.segments()[0];
    if ip.is_loopback() {
        Some("回环地址")
    } else if ip.is_unspecified() {
        Some("未指定地址")
    } else if seg0 & 0xfe00 == 0xfc00 {
        Some("内网地址（ULA）")
    } else if seg0 & 0xffc0 == 0xfe80 {
        Some("链路本地地址")
    } else if ip.is_multicast() {
        Some("组播地址")
    } else if let Some(v4) = ip.to_ipv4() {
        // IPv4-compatible (::a.b.c.d) and NAT64 forms name an IPv4 address too.
        v4_reason(v4).filter(|_| seg0 == 0)
    } else {
        None
    }
}

/// Whether `ip` is one of this host's own addresses: a UDP socket "connected"
/// to it (no packet is sent) picks it as its own source address.
fn is_own_address(ip: IpAddr) -> bool {
    let bind: SocketAddr = if ip.is_ipv4() { (Ipv4Addr::UNSPECIFIED, 0).into() } else { (Ipv6Addr::UNSPECIFIED, 0).into() };
    std::net::UdpSocket::bind(bind)
        .and_then(|s| {
            s.connect((ip, 9))?;
            s.local_addr()
        })
        .is_ok_and(|local| local.ip() == ip)
}

/// The rules for outside fetches, from the settings.
#[derive(Debug, Clone)]
pub struct Outbound {
    allow_hosts: Vec<String>,
    /// The database server's host, never reachable through a fetch.
    database_host: Option<String>,
    user_agent: String,
    timeout: Duration,
}

/// How many redirects one fetch follows.
const MAX_REDIRECTS: usize = 5;

impl Outbound {
    /// `allow_hosts`: `crawl.allow_hosts`; `database_url`: the configured database (its host is refused).
    pub fn new(allow_hosts: &[String], database_url: &str, user_agent: &str) -> Outbound {
        let database_host = Url::parse(database_url)
            .ok()
            .filter(|u| u.scheme().starts_with("postgres"))
            .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase()));
        Outbound {
            allow_hosts: allow_hosts.iter().map(|h| h.trim().trim_matches(['[', ']']).to_ascii_lowercase()).collect(),
            database_host,
            user_agent: user_agent.to_owned(),
            timeout: Duration::from_secs(20),
        }
    }

    fn allowed(&self, name: &str) -> bool {
        self.allow_hosts.iter().any(|h| h == name)
    }

    /// Checks a URL's form (before any lookup): scheme, user info, host form.
    pub fn check_form(url: &Url, raw: &str) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err("只能访问 http:// 或 https:// 地址".to_owned());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("地址中不能包含用户名或密码".to_owned());
        }
        let host = url.host_str().ok_or_else(|| "地址缺少主机名".to_owned())?;
        if let Ok(ip) = host.parse::<Ipv4Addr>() {
            // The parser reads 2130706433, 0x7f.1 and 0177.0.0.1 as IPv4 addresses;
            // only the plain dotted form is accepted.
            let typed = raw_host(raw).unwrap_or_default();
            if typed != ip.to_string() {
                return Err(format!("地址中的 IP 写法不规范（{typed}），请使用点分十进制形式"));
            }
        }
        Ok(())
    }

    /// Resolves the URL's host and checks every address; returns the one to connect to.
    pub async fn check(&self, url: &Url) -> Result<SocketAddr, String> {
        let host = url.host_str().ok_or_else(|| "地址缺少主机名".to_owned())?;
        let name = host.trim_matches(['[', ']']).to_ascii_lowercase();
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs: Vec<SocketAddr> = match name.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => {
                tokio::net::lookup_host((name.as_str(), port)).await.map_err(|e| format!("无法解析主机名 {name}：{e}"))?.collect()
            }
        };
        let first = *addrs.first().ok_or_else(|| format!("无法解析主机名 {name}"))?;
        if self.allowed(&name) {
            return Ok(first);
        }
        let database = match &self.database_host {
            Some(db) => match db.parse::<IpAddr>() {
                Ok(ip) => vec![ip],
                Err(_) => {
                    tokio::net::lookup_host((db.as_str(), 5432)).await.map(|a| a.map(|s| s.ip()).collect()).unwrap_or_default()
                }
            },
            None => Vec::new(),
        };
        for a in &addrs {
            let ip = canonical(a.ip());
            if self.allowed(&ip.to_string()) {
                continue;
            }
            if let Some(why) = internal_reason(ip) {
                return Err(format!("不允许访问{why} {ip}（{name}）；如确需采集内网站点，请在 crawl.allow_hosts 中列出"));
            }
            if database.iter().any(|d| canonical(*d) == ip) || self.database_host.as_deref() == Some(name.as_str()) {
                return Err(format!("不允许访问数据库服务器所在主机 {ip}"));
            }
            if is_own_address(ip) {
                return Err(format!("不允许访问本机地址 {ip}"));
            }
        }
        Ok(first)
    }

    /// GETs `url` (at most `max_bytes`), following redirects one checked hop at a time.
    /// Returns the status and the body.
    pub async fn get(&self, url: &Url, max_bytes: usize) -> Result<(u16, Vec<u8>), String> {
        let mut url = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            Self::check_form(&url, url.as_str())?;
            let addr = self.check(&url).await?;
            let mut builder = reqwest::Client::builder()
                .user_agent(self.user_agent.as_str())
                .timeout(self.timeout)
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy();
            if let Some(host) = url.host_str().filter(|h| h.parse::<IpAddr>().is_err() && !h.starts_with('[')) {
                builder = builder.resolve(host, addr);
            }
            let client = builder.build().map_err(|e| format!("无法创建网络客户端：{e}"))?;
            let mut res = client.get(url.clone()).send().await.map_err(|e| format!("无法访问：{e}"))?;
            let status = res.status();
            if status.is_redirection() {
                let Some(next) =
                    res.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).and_then(|l| url.join(l).ok())
                else {
                    return Ok((status.as_u16(), Vec::new()));
                };
                url = next;
                continue;
            }
            let mut body = Vec::new();
            while let Some(chunk) = res.chunk().await.map_err(|e| format!("读取失败：{e}"))? {
                body.extend_from_slice(&chunk);
                if body.len() > max_bytes {
                    return Err(format!("内容超过{}MB，已跳过", max_bytes / 1024 / 1024));
                }
            }
            return Ok((status.as_u16(), body));
        }
        Err(format!("重定向超过{MAX_REDIRECTS}次，已停止"))
    }
}

/// The host part of a URL as typed (between `//` and the next `/`, `?` or `#`, without user info and port).
fn raw_host(raw: &str) -> Option<String> {
    let rest = raw.trim().split_once("//")?.1;
    let authority = rest.split(['/', '?', '#', '\\']).next()?;
    let host_port = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let host = if host_port.starts_with('[') {
        host_port.split_once(']').map(|(h, _)| format!("{h}]"))?
    } else {
        host_port.split(':').next()?.to_owned()
    };
    Some(host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_addresses_are_named() {
        for a in [
            "127.0.0.1",
            "127.8.9.10",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "169.254.169.254",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(internal_reason(ip(a)).is_some(), "{a} must be refused");
        }
        for a in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2400:3200::1", "114.114.114.114"] {
            assert!(internal_reason(ip(a)).is_none(), "{a} is public");
        }
    }

    #[test]
    fn odd_ip_forms_and_user_info_are_refused() {
        for raw in ["http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/", "http://127.1/", "http://0x7f.0.0.1/"] {
            let u = Url::parse(raw).unwrap();
            assert!(Outbound::check_form(&u, raw).is_err(), "{raw}");
        }
        let raw = "http://user@127.0.0.1/";
        assert!(Outbound::check_form(&Url::parse(raw).unwrap(), raw).unwrap_err().contains("用户名"));
        let raw = "http://127.0.0.1:8080/x";
        assert!(Outbound::check_form(&Url::parse(raw).unwrap(), raw).is_ok());
        let raw = "ftp://example.com/";
        assert!(Outbound::check_form(&Url::parse(raw).unwrap(), raw).is_err());
        let raw = "http://[::1]:80/";
        assert!(Outbound::check_form(&Url::parse(raw).unwrap(), raw).is_ok(), "form is fine; the address check refuses it");
    }

    #[test]
    fn cidr_blocks() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains(ip("10.200.1.1")) && !c.contains(ip("11.0.0.1")));
        assert!(Cidr::parse("::1").unwrap().contains(ip("::1")));
        assert!(Cidr::parse("127.0.0.1/32").unwrap().contains(ip("::ffff:127.0.0.1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("1.2.3.4")));
        assert!(Cidr::parse("10.0.0.0/33").is_none() && Cidr::parse("nonsense").is_none());
    }

    #[test]
    fn the_right_most_untrusted_forwarded_address_is_the_client() {
        let trusted = vec![Cidr::parse("127.0.0.1/32").unwrap(), Cidr::parse("10.0.0.0/8").unwrap()];
        // Not from a trusted proxy: the header is ignored.
        assert_eq!(client_ip(ip("203.0.113.9"), Some("1.1.1.1"), &trusted), ip("203.0.113.9"));
        // The client forged an entry on the left; the proxy appended the real one.
        assert_eq!(client_ip(ip("127.0.0.1"), Some("1.1.1.1, 198.51.100.7"), &trusted), ip("198.51.100.7"));
        // Two proxies in a row.
        assert_eq!(client_ip(ip("127.0.0.1"), Some("1.1.1.1, 198.51.100.7, 10.0.0.5"), &trusted), ip("198.51.100.7"));
        // Garbage stops the walk.
        assert_eq!(client_ip(ip("127.0.0.1"), Some("1.1.1.1, garbage"), &trusted), ip("127.0.0.1"));
        assert_eq!(client_ip(ip("127.0.0.1"), None, &trusted), ip("127.0.0.1"));
    }

    #[test]
    fn own_address_is_recognised() {
        assert!(is_own_address(ip("127.0.0.1")));
    }
}
