//! The SSRF guard: which addresses a source may resolve to.
//!
//! User-added URLs must not reach the self-hoster's own network (router pages, cloud metadata
//! at 169.254.169.254, databases on localhost). The guard runs on every DNS answer through a
//! custom resolver, and on IP-literal hosts before every request and redirect hop, so a
//! redirect or a DNS answer that changes cannot slip past it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

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

/// A resolver that drops answers the policy refuses, and fails when none is left.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    pub policy: AddressPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let answers: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = answers
                .iter()
                .copied()
                .filter(|a| policy.allows(a.ip()))
                .collect();
            if allowed.is_empty() {
                let msg = match answers.first() {
                    Some(a) => policy
                        .check(a.ip())
                        .err()
                        .unwrap_or_else(|| "no address".into()),
                    None => format!("{host} has no address"),
                };
                return Err(msg.into());
            }
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

    #[test]
    fn refusal_says_how_to_allow() {
        let msg = AddressPolicy::PublicOnly
            .check(ip("10.0.0.1"))
            .expect_err("private");
        assert!(msg.contains("allow_private_addresses"));
    }
}
