//! A token bucket per client address, in memory: enough to keep one client from using the
//! subscribe form to mail many addresses. (Behind a reverse proxy every client shares the
//! proxy's address, so the limit then applies to the site as a whole.)

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most remembered clients; past this, clients whose bucket has refilled are forgotten.
const MAX_CLIENTS: usize = 10_000;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Allows `burst` attempts at once per client, refilled at one per `every`.
#[derive(Debug)]
pub struct ClientLimiter {
    burst: f64,
    every: Duration,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl ClientLimiter {
    pub fn new(burst: u32, every: Duration) -> ClientLimiter {
        ClientLimiter {
            burst: f64::from(burst.max(1)),
            every: every.max(Duration::from_millis(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one attempt for `client` at `now`; false when it has none left.
    pub fn allow(&self, client: IpAddr, now: Instant) -> bool {
        // A panic elsewhere while holding the lock leaves plain numbers behind; keep going.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let refill = |b: &Bucket| {
            let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
            (b.tokens + elapsed / self.every.as_secs_f64()).min(self.burst)
        };
        if buckets.len() >= MAX_CLIENTS {
            buckets.retain(|_, b| refill(b) < self.burst);
        }
        let b = buckets.entry(client).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        b.tokens = refill(b);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_a_burst_then_one_per_interval() {
        let l = ClientLimiter::new(3, Duration::from_secs(60));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let t = Instant::now();
        assert!((0..3).all(|_| l.allow(a, t)));
        assert!(!l.allow(a, t));
        assert!(l.allow(b, t), "other clients are not affected");
        assert!(!l.allow(a, t + Duration::from_secs(30)));
        assert!(l.allow(a, t + Duration::from_secs(61)));
        assert!(!l.allow(a, t + Duration::from_secs(62)));
    }
}
