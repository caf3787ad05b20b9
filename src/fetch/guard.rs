//! The SSRF guard: which addresses a source may resolve to.
//!
//! User-added URLs must not reach the self-hoster's own network (router pages, cloud metadata
//! at 169.254.169.254, databases on localhost). The guard runs on every DNS answer through a
//! custom resolver, and on IP-literal hosts before every request and redirect hop, so a
//! redirect or a DNS answer that changes cannot slip past it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use futures_util::future::BoxFuture;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Which destination addresses are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressPolicy {
    /// Public addresses only (the default).
    PublicOnly,
    /// Anything (`allow_private_addresses = true`).
    Any,
    /// Loopback only: what tests use, so a broken guard shows as a failure, never as traffic
    /// to another address.
    LoopbackOnly,
}

impl AddressPolicy {
    pub fn allows(self, ip: IpAddr) -> bool {
        match self {
            AddressPolicy::Any => true,
            AddressPolicy::PublicOnly => !is_non_public(ip),
            AddressPolicy::LoopbackOnly => canonical(ip).is_loopback(),
        }
    }

    /// A plain-words refusal for `ip`, or `None` when it is allowed.
    pub fn check(self, ip: IpAddr) -> Result<(), String> {
        if self.allows(ip) {
            Ok(())
        } else {
            Err(format!(
                "refused to connect to {ip}: private, loopback and link-local addresses are \
                 blocked (set fetch.allow_private_addresses = true to allow them)"
            ))
        }
    }
}

/// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// True for loopback, private, link-local, CGNAT, unspecified, multicast, documentation and
/// other non-global ranges.
pub fn is_non_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_non_public_v4(v4),
        IpAddr::V6(v6) => is_non_public_v6(v6),
    }
}

fn is_non_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn is_non_public_v6(ip: Ipv6Addr) -> bool {
    let seg0 = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (seg0 & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (seg0 & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (seg0 & 0xffc0) == 0xfec0 // site-local (deprecated)
        || seg0 == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || (seg0 == 0x0064 && ip.segments()[1] == 0xff9b) // NAT64 can reach private v4
}

/// How a host name becomes addresses. Production asks the system resolver; tests give one
/// that answers what they need (and changes its answer), so no test depends on real DNS.
pub type Lookup =
    Arc<dyn Fn(String) -> BoxFuture<'static, std::io::Result<Vec<SocketAddr>>> + Send + Sync>;

/// The system resolver (`getaddrinfo` through tokio).
pub fn system_lookup() -> Lookup {
    Arc::new(|host: String| {
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect()) })
    })
}

/// A resolver that drops answers the policy refuses, and fails when none is left. reqwest asks
/// it for every new connection, so an answer that changes between polls (DNS rebinding) is
/// judged again each time.
#[derive(Clone)]
pub struct GuardedResolver {
    policy: AddressPolicy,
    lookup: Lookup,
}

impl std::fmt::Debug for GuardedResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedResolver")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl GuardedResolver {
    /// Guard the system resolver's answers.
    pub fn new(policy: AddressPolicy) -> GuardedResolver {
        GuardedResolver::with_lookup(policy, system_lookup())
    }

    /// Guard the answers of `lookup`.
    pub fn with_lookup(policy: AddressPolicy, lookup: Lookup) -> GuardedResolver {
        GuardedResolver { policy, lookup }
    }

    /// The addresses of `host` that the policy allows; an error naming the refused address
    /// when there are none.
    pub async fn resolve_allowed(&self, host: &str) -> Result<Vec<SocketAddr>, String> {
        let answers = (self.lookup)(host.to_string())
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?;
        let allowed: Vec<SocketAddr> = answers
            .iter()
            .copied()
            .filter(|a| self.policy.allows(a.ip()))
            .collect();
        if allowed.is_empty() {
            return Err(match answers.first() {
                Some(a) => self
                    .policy
                    .check(a.ip())
                    .err()
                    .unwrap_or_else(|| "no address".into()),
                None => format!("{host} has no address"),
            });
        }
        Ok(allowed)
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let allowed = this.resolve_allowed(name.as_str()).await?;
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn non_public_ranges_are_refused_by_default() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
        ] {
            assert!(
                !AddressPolicy::PublicOnly.allows(ip(a)),
                "{a} must be refused"
            );
        }
        for a in ["93.184.216.34", "2606:2800:220:1::1", "1.1.1.1"] {
            assert!(AddressPolicy::PublicOnly.allows(ip(a)), "{a} is public");
        }
    }

    #[test]
    fn loopback_only_refuses_everything_else() {
        assert!(AddressPolicy::LoopbackOnly.allows(ip("127.0.0.1")));
        assert!(AddressPolicy::LoopbackOnly.allows(ip("::1")));
        assert!(!AddressPolicy::LoopbackOnly.allows(ip("10.0.0.1")));
        assert!(!AddressPolicy::LoopbackOnly.allows(ip("93.184.216.34")));
    }

    /// A lookup that gives `answers[n]` on the n-th call (the last one from then on): a DNS
    /// answer that changes between connections.
    fn changing(answers: Vec<Vec<&'static str>>) -> Lookup {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        Arc::new(move |_host: String| {
            let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let pick = &answers[n.min(answers.len() - 1)];
            let addrs: Vec<SocketAddr> = pick.iter().map(|a| SocketAddr::new(ip(a), 0)).collect();
            Box::pin(async move { Ok(addrs) })
        })
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn every_answer_is_judged_and_a_changed_answer_is_refused() {
        let r = GuardedResolver::with_lookup(
            AddressPolicy::PublicOnly,
            changing(vec![
                vec!["93.184.216.34"],
                vec!["169.254.169.254"],
                vec!["10.0.0.1", "::ffff:192.168.0.1"],
                vec!["0.0.0.0"],
            ]),
        );
        block_on(async {
            assert_eq!(
                r.resolve_allowed("feed.example").await,
                Ok(vec![SocketAddr::new(ip("93.184.216.34"), 0)])
            );
            for refused in ["169.254.169.254", "10.0.0.1", "0.0.0.0"] {
                let err = r.resolve_allowed("feed.example").await.expect_err(refused);
                assert!(
                    err.contains(&format!("refused to connect to {refused}")),
                    "{err}"
                );
            }
        });
    }

    #[test]
    fn refused_answers_are_dropped_from_a_mixed_answer() {
        let r = GuardedResolver::with_lookup(
            AddressPolicy::PublicOnly,
            changing(vec![vec![
                "127.0.0.1",
                "1.1.1.1",
                "fd00::1",
                "2606:4700::1111",
            ]]),
        );
        let got = block_on(r.resolve_allowed("mixed.example")).expect("public answers left");
        let ips: Vec<IpAddr> = got.iter().map(SocketAddr::ip).collect();
        assert_eq!(ips, [ip("1.1.1.1"), ip("2606:4700::1111")]);
    }

    #[test]
    fn loopback_only_refuses_any_answer_off_the_machine() {
        let r = GuardedResolver::with_lookup(
            AddressPolicy::LoopbackOnly,
            changing(vec![vec!["127.0.0.1"], vec!["93.184.216.34"], vec![]]),
        );
        block_on(async {
            assert!(r.resolve_allowed("t.test").await.is_ok());
            assert!(r.resolve_allowed("t.test").await.is_err());
            assert_eq!(
                r.resolve_allowed("t.test").await,
                Err("t.test has no address".to_string())
            );
        });
    }

    #[test]
    fn metadata_and_every_special_range_is_refused_by_default() {
        for a in [
            "169.254.169.254", // AWS, GCP, Azure, OpenStack metadata
            "169.254.170.2",   // ECS task metadata
            "100.100.100.200", // Alibaba metadata (CGNAT range)
            "fd00:ec2::254",   // AWS metadata over IPv6
            "192.0.0.192",     // Oracle metadata (IETF protocol assignments)
            "127.1.2.3",
            "0.1.2.3",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::",
            "fec0::1",
            "ff02::1",
            "::ffff:10.0.0.1",
            "::ffff:0.0.0.0",
        ] {
            assert!(
                !AddressPolicy::PublicOnly.allows(ip(a)),
                "{a} must be refused"
            );
        }
    }

    #[test]
    fn refusal_says_how_to_allow() {
        let msg = AddressPolicy::PublicOnly
            .check(ip("10.0.0.1"))
            .expect_err("private");
        assert!(msg.contains("allow_private_addresses"));
    }
}
