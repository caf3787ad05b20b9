//! The SSRF guard: which addresses a source may resolve to.
//!
//! User-added URLs must not reach the self-hoster's own network (router pages, cloud metadata
//! at 169.254.169.254, databases on localhost). The guard runs on every DNS answer through a
//! custom resolver, and on IP-literal hosts before every request and redirect hop, so a
//! redirect or a DNS answer that changes cannot slip past it. IPv6 addresses that lead to an
//! IPv4 address (IPv4-mapped and -compatible, 6to4, Teredo, NAT64) are judged by the IPv4
//! address they carry.

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
    /// The default policy, plus one address: what the end-to-end guard tests use, so that a
    /// loopback server can stand in for a public source while every other private address
    /// is judged exactly as in production.
    PublicOrExactly(IpAddr),
}

impl AddressPolicy {
    pub fn allows(self, ip: IpAddr) -> bool {
        match self {
            AddressPolicy::Any => true,
            AddressPolicy::PublicOnly => !is_non_public(ip),
            AddressPolicy::LoopbackOnly => canonical(ip).is_loopback(),
            AddressPolicy::PublicOrExactly(allowed) => ip == allowed || !is_non_public(ip),
        }
    }

    /// A plain-words refusal for `ip`, or `None` when it is allowed.
    pub fn check(self, ip: IpAddr) -> Result<(), String> {
        if self.allows(ip) {
            return Ok(());
        }
        let carried = match ip {
            IpAddr::V6(v6) => match carried_v4(v6) {
                Some(c) => {
                    let v4: Vec<String> = c.v4.iter().map(Ipv4Addr::to_string).collect();
                    format!(" ({} for {})", c.form, v4.join(" and "))
                }
                None => String::new(),
            },
            IpAddr::V4(_) => String::new(),
        };
        Err(format!(
            "refused to connect to {ip}{carried}: private, loopback and link-local addresses \
             are blocked (set fetch.allow_private_addresses = true to allow them)"
        ))
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
/// other non-global ranges, and for IPv6 addresses that carry such an IPv4 address.
pub fn is_non_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_non_public_v4(v4),
        IpAddr::V6(v6) => match carried_v4(v6) {
            Some(c) => c.v4.iter().any(|v4| is_non_public_v4(*v4)),
            None => is_non_public_v6(v6),
        },
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
    let [s0, s1, s2, s3, ..] = ip.segments();
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s0 & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s0 & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s0 & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s0 == 0x2001 && s1 == 0x0db8) // documentation 2001:db8::/32
        || (s0 & 0xfff0) == 0x3ff0 // documentation 3fff::/20
        || (s0 == 0x2001 && s1 == 0x0002 && s2 == 0) // benchmarking 2001:2::/48
        || (s0 == 0x0100 && s1 == 0 && s2 == 0 && s3 == 0) // discard-only 100::/64
        || (s0 == 0x0064 && s1 == 0xff9b && s2 == 0x0001) // local-use NAT64 64:ff9b:1::/48
        || s0 == 0x5f00 // SRv6 segment identifiers 5f00::/16
}

/// An IPv6 address whose traffic ends up at an IPv4 address: the form, and the addresses.
#[derive(Debug, PartialEq, Eq)]
struct Carried {
    form: &'static str,
    v4: Vec<Ipv4Addr>,
}

/// The IPv4 addresses an IPv6 address leads to, for the forms that carry one. A host (or a
/// relay, a NAT64 gateway, a Teredo server on its network) may deliver such traffic to the
/// IPv4 address, so these forms are judged by what they carry: `::ffff:10.0.0.1` is as
/// private as 10.0.0.1.
fn carried_v4(ip: Ipv6Addr) -> Option<Carried> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    let carried = |form, v4| Some(Carried { form, v4 });
    if let Some(mapped) = ip.to_ipv4_mapped() {
        return carried("IPv4-mapped", vec![mapped]);
    }
    match s {
        // `::` and `::1` are IPv6's own unspecified and loopback addresses.
        [0, 0, 0, 0, 0, 0, 0, 0 | 1] => None,
        // IPv4-compatible `::a.b.c.d` (deprecated, RFC 4291 2.5.5.1).
        [0, 0, 0, 0, 0, 0, hi, lo] => carried("IPv4-compatible", vec![v4(hi, lo)]),
        // IPv4-translated `::ffff:0:a.b.c.d` (SIIT, RFC 2765).
        [0, 0, 0, 0, 0xffff, 0, hi, lo] => carried("IPv4-translated", vec![v4(hi, lo)]),
        // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052): translated to the IPv4 address.
        [0x0064, 0xff9b, 0, 0, 0, 0, hi, lo] => carried("NAT64", vec![v4(hi, lo)]),
        // 6to4 2002:AABB:CCDD::/48 (RFC 3056): tunnelled to AA.BB.CC.DD.
        [0x2002, hi, lo, ..] => carried("6to4", vec![v4(hi, lo)]),
        // Teredo 2001:0::/32 (RFC 4380): the server's IPv4 address, then the client's,
        // stored with every bit inverted.
        [0x2001, 0, server_hi, server_lo, _, _, client_hi, client_lo] => carried(
            "Teredo",
            vec![v4(server_hi, server_lo), v4(!client_hi, !client_lo)],
        ),
        _ => None,
    }
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
#[path = "guard_tests.rs"]
mod tests;
