//! Which source a round fetches next: the earliest waiting source whose host is under its
//! cap. The round starts a fetch only when a slot is free, so it holds a task per fetch in
//! flight, not one per source (10,000 sources waiting as tasks held ~20 MB of futures).

use std::collections::{BTreeSet, HashMap, VecDeque};

use url::Url;

use crate::store::SourceRow;

/// Sources waiting to be fetched, grouped by host.
pub(super) struct Dispatch {
    hosts: Vec<Host>,
    /// Hosts under their cap with a source waiting, by the position of that source in the
    /// round: the first is the next to start.
    ready: BTreeSet<(usize, usize)>,
    per_host: usize,
}

struct Host {
    waiting: VecDeque<(usize, SourceRow)>,
    active: usize,
}

/// A fetch started: the source, and the host to hand back to [`Dispatch::finished`].
pub(super) struct Started {
    pub source: SourceRow,
    pub host: usize,
}

impl Dispatch {
    /// `sources` in the order they should start; at most `per_host` of one host at once.
    pub fn new(sources: Vec<SourceRow>, per_host: usize) -> Dispatch {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut hosts: Vec<Host> = Vec::new();
        for (pos, source) in sources.into_iter().enumerate() {
            let name = Url::parse(&source.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default();
            let h = *index.entry(name).or_insert_with(|| {
                hosts.push(Host {
                    waiting: VecDeque::new(),
                    active: 0,
                });
                hosts.len() - 1
            });
            hosts[h].waiting.push_back((pos, source));
        }
        let ready = hosts
            .iter()
            .enumerate()
            .filter_map(|(h, host)| host.waiting.front().map(|(pos, _)| (*pos, h)))
            .collect();
        Dispatch {
            hosts,
            ready,
            per_host: per_host.max(1),
        }
    }

    /// The next source to fetch, or `None` while every host with waiting sources is at its
    /// cap (or nothing waits).
    pub fn next(&mut self) -> Option<Started> {
        let (_, h) = self.ready.pop_first()?;
        let host = &mut self.hosts[h];
        let (_, source) = host.waiting.pop_front()?;
        host.active += 1;
        self.offer(h);
        Some(Started { source, host: h })
    }

    /// A fetch of `host` finished: its next source may start.
    pub fn finished(&mut self, host: usize) {
        if let Some(hq) = self.hosts.get_mut(host) {
            hq.active = hq.active.saturating_sub(1);
            self.offer(host);
        }
    }

    /// Nothing left to start.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.hosts.iter().all(|h| h.waiting.is_empty())
    }

    fn offer(&mut self, h: usize) {
        let host = &self.hosts[h];
        if host.active < self.per_host {
            if let Some((pos, _)) = host.waiting.front() {
                self.ready.insert((*pos, h));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(id: &str, url: &str) -> SourceRow {
        SourceRow {
            id: id.into(),
            url: url.into(),
            ..SourceRow::default()
        }
    }

    fn ids(started: &[Started]) -> Vec<&str> {
        started.iter().map(|s| s.source.id.as_str()).collect()
    }

    #[test]
    fn starts_in_order_and_holds_each_host_to_its_cap() {
        let mut d = Dispatch::new(
            vec![
                source("a1", "https://a.test/1"),
                source("a2", "https://a.test/2"),
                source("a3", "https://a.test/3"),
                source("b1", "https://b.test/1"),
                source("a4", "https://a.test/4"),
                source("c1", "https://c.test/1"),
            ],
            2,
        );
        let mut started = Vec::new();
        while let Some(s) = d.next() {
            started.push(s);
        }
        // a3 and a4 wait for a.test; the other hosts go ahead, in order.
        assert_eq!(ids(&started), ["a1", "a2", "b1", "c1"]);
        assert!(!d.is_empty());
        d.finished(started[3].host);
        assert!(
            d.next().is_none(),
            "c.test finishing frees nothing for a.test"
        );
        d.finished(started[0].host);
        let s = d.next().expect("a.test has room again");
        assert_eq!(s.source.id, "a3");
        assert!(d.next().is_none());
        d.finished(started[1].host);
        assert_eq!(d.next().map(|s| s.source.id), Some("a4".to_string()));
        assert!(d.is_empty());
        assert!(d.next().is_none());
    }

    #[test]
    fn a_bad_url_is_still_dispatched() {
        let mut d = Dispatch::new(vec![source("x", "not a url"), source("y", "")], 1);
        assert_eq!(d.next().map(|s| s.source.id), Some("x".to_string()));
        assert!(
            d.next().is_none(),
            "both have no host, so they share one cap"
        );
        d.finished(0);
        assert_eq!(d.next().map(|s| s.source.id), Some("y".to_string()));
    }
}
