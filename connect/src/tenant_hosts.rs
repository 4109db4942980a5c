//! Which sites may install the app: the hosts a tenant's `baseUrl` may name.
//!
//! Install tokens are signed by Atlassian, so this is defence in depth (as
//! atlassian-connect-express's host allow-list is): we send signed requests
//! and user tokens to the base URL a tenant registers, so it must be one of
//! Atlassian's product domains, over TLS. Tests and the host simulator add
//! `http://127.0.0.1:*`; plain http is accepted for loopback hosts only.

use std::fmt;

use url::{Host, Url};

/// The product domains atlassian-connect-express accepts by default (its
/// `whitelist`: `*.jira-dev.com`, `*.atlassian.net`, `*.jira.com`).
pub const ATLASSIAN_PRODUCT_DOMAINS: &[&str] = &["*.atlassian.net", "*.jira.com", "*.jira-dev.com"];

#[derive(Clone, Debug, PartialEq, Eq)]
enum Pattern {
    /// `https://` and a host equal to the text or, with `*.`, a subdomain of it.
    Https { host: String, subdomains: bool },
    /// `http://` on a loopback IP or `localhost`, any port or the one given.
    LoopbackHttp { host: String, port: Option<u16> },
}

/// The host allow-list (see the module documentation).
#[derive(Clone, PartialEq, Eq)]
pub struct TenantHosts(Vec<Pattern>);

impl fmt::Debug for TenantHosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|p| match p {
                Pattern::Https { host, subdomains } => {
                    format!("{}{host}", if *subdomains { "*." } else { "" })
                }
                Pattern::LoopbackHttp { host, port } => format!(
                    "http://{host}:{}",
                    port.map_or("*".to_owned(), |p| p.to_string())
                ),
            }))
            .finish()
    }
}

impl Default for TenantHosts {
    fn default() -> Self {
        Self::parse(ATLASSIAN_PRODUCT_DOMAINS).expect("the default list parses")
    }
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl TenantHosts {
    /// Parses entries like `*.atlassian.net`, `acme.example.com` or
    /// `http://127.0.0.1:*` (see the module documentation).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let mut out = Vec::new();
        for raw in entries {
            let e = raw.as_ref().trim().to_ascii_lowercase();
            if e.is_empty() {
                continue;
            }
            if let Some(rest) = e.strip_prefix("http://") {
                let (host, port) = match rest.rsplit_once(':') {
                    Some((h, "*")) => (h.to_owned(), None),
                    Some((h, p)) => (
                        h.to_owned(),
                        Some(p.parse().map_err(|_| format!("bad port in {e}"))?),
                    ),
                    None => (rest.to_owned(), None),
                };
                if !is_loopback_host(&host) {
                    return Err(format!(
                        "{e}: plain http is only for loopback hosts (tests, the simulator)"
                    ));
                }
                out.push(Pattern::LoopbackHttp { host, port });
                continue;
            }
            let host = e.strip_prefix("https://").unwrap_or(&e);
            let (host, subdomains) = match host.strip_prefix("*.") {
                Some(h) => (h, true),
                None => (host, false),
            };
            let ok = !host.is_empty()
                && host.contains('.')
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if !ok {
                return Err(format!("{e}: not a host name pattern"));
            }
            out.push(Pattern::Https {
                host: host.to_owned(),
                subdomains,
            });
        }
        if out.is_empty() {
            return Err("no tenant hosts: no site could install the app".into());
        }
        Ok(Self(out))
    }

    /// Adds `http://<host>:<port>` (a loopback origin: the simulator's).
    pub fn with_loopback_origin(mut self, host: &str, port: u16) -> Result<Self, String> {
        if !is_loopback_host(host) {
            return Err(format!("{host} is not a loopback host"));
        }
        self.0.push(Pattern::LoopbackHttp {
            host: host.to_ascii_lowercase(),
            port: Some(port),
        });
        Ok(self)
    }

    /// Whether any entry accepts plain http.
    pub fn allows_plain_http(&self) -> bool {
        self.0
            .iter()
            .any(|p| matches!(p, Pattern::LoopbackHttp { .. }))
    }

    /// Whether a site at `base_url` may install the app.
    pub fn allows(&self, base_url: &Url) -> bool {
        let Some(host) = base_url.host() else {
            return false;
        };
        let host_text = match &host {
            Host::Domain(d) => d.to_ascii_lowercase(),
            Host::Ipv4(ip) => ip.to_string(),
            Host::Ipv6(ip) => format!("[{ip}]"),
        };
        if !base_url.username().is_empty() || base_url.password().is_some() {
            return false;
        }
        self.0.iter().any(|p| match p {
            Pattern::Https {
                host: h,
                subdomains,
            } => {
                base_url.scheme() == "https"
                    && matches!(host, Host::Domain(_))
                    && if *subdomains {
                        host_text.len() > h.len() + 1 && host_text.ends_with(&format!(".{h}"))
                    } else {
                        host_text == *h
                    }
            }
            Pattern::LoopbackHttp { host: h, port } => {
                base_url.scheme() == "http"
                    && host_text == *h
                    && port.is_none_or(|p| base_url.port_or_known_default() == Some(p))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn the_default_list_is_atlassians_product_domains_over_https() {
        let hosts = TenantHosts::default();
        for ok in [
            "https://acme.atlassian.net/wiki",
            "https://ACME.Atlassian.NET/wiki",
            "https://x.jira-dev.com",
        ] {
            assert!(hosts.allows(&url(ok)), "{ok}");
        }
        for bad in [
            "http://acme.atlassian.net/wiki",
            "https://atlassian.net.evil.com/wiki",
            "https://evilatlassian.net/wiki",
            "https://atlassian.net/wiki",
            "https://127.0.0.1/wiki",
            "https://user:pw@acme.atlassian.net/wiki",
            "http://127.0.0.1:3001/wiki",
        ] {
            assert!(!hosts.allows(&url(bad)), "{bad}");
        }
        assert!(!hosts.allows_plain_http());
    }

    #[test]
    fn plain_http_is_for_loopback_only() {
        let hosts = TenantHosts::parse(&["*.atlassian.net", "http://127.0.0.1:*"]).unwrap();
        assert!(hosts.allows(&url("http://127.0.0.1:4567/wiki")));
        assert!(!hosts.allows(&url("http://127.0.0.2:4567/wiki")));
        assert!(hosts.allows_plain_http());
        assert!(TenantHosts::parse(&["http://example.com"]).is_err());
        assert!(TenantHosts::parse(&["*"]).is_err());
        assert!(TenantHosts::parse::<&str>(&[]).is_err());
        let sim = TenantHosts::default()
            .with_loopback_origin("127.0.0.1", 3001)
            .unwrap();
        assert!(sim.allows(&url("http://127.0.0.1:3001/wiki")));
        assert!(!sim.allows(&url("http://127.0.0.1:3002/wiki")));
    }
}
