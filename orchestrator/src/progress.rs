//! Progress of long operations: bytes and artifacts done, rate and an estimate of the time
//! left, reported to a callback at most every [`REPORT_EVERY`] (and at every artifact's start
//! and end).

use std::collections::BTreeSet;
use std::io::{self, Read};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

/// Reports come at most this often, artifact boundaries aside.
pub const REPORT_EVERY: Duration = Duration::from_millis(100);

/// Where an operation stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Progress {
    /// `backup` or `restore`.
    pub operation: &'static str,
    /// Artifacts finished.
    pub artifacts_done: usize,
    /// Artifacts in all.
    pub artifacts_total: usize,
    /// Bytes read from the sources so far (before compression for a backup, as stored for
    /// a restore).
    pub bytes_done: u64,
    /// An estimate of the bytes in all (database sizes as the server gives them, file sizes);
    /// it may be passed.
    pub bytes_total: u64,
    /// Time since the start.
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
    /// Bytes per second since the start.
    pub bytes_per_second: f64,
    /// Time left at the current rate; `None` until there is a rate.
    #[serde(serialize_with = "optional_seconds")]
    pub eta: Option<Duration>,
    /// The artifacts in progress, by name.
    pub current: Vec<String>,
    /// This is the last report.
    pub finished: bool,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn optional_seconds<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

/// A progress callback. It is called from the threads doing the work, one call at a time.
pub type ProgressFn<'a> = dyn Fn(&Progress) + Send + Sync + 'a;

struct State {
    done: usize,
    total: usize,
    bytes: u64,
    bytes_total: u64,
    current: BTreeSet<String>,
    last: Option<Instant>,
}

/// Counts what an operation did and calls the callback.
pub(crate) struct Tracker<'a> {
    operation: &'static str,
    callback: Option<&'a ProgressFn<'a>>,
    start: Instant,
    state: Mutex<State>,
}

impl<'a> Tracker<'a> {
    pub(crate) fn new(
        operation: &'static str,
        callback: Option<&'a ProgressFn<'a>>,
        artifacts_total: usize,
        bytes_total: u64,
    ) -> Self {
        Self {
            operation,
            callback,
            start: Instant::now(),
            state: Mutex::new(State {
                done: 0,
                total: artifacts_total,
                bytes: 0,
                bytes_total,
                current: BTreeSet::new(),
                last: None,
            }),
        }
    }

    fn with_state(&self, force: bool, change: impl FnOnce(&mut State)) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        change(&mut state);
        let Some(callback) = self.callback else {
            return;
        };
        let now = Instant::now();
        if !force && state.last.is_some_and(|last| now - last < REPORT_EVERY) {
            return;
        }
        state.last = Some(now);
        let elapsed = now - self.start;
        let rate = if elapsed.as_secs_f64() > 0.0 {
            state.bytes as f64 / elapsed.as_secs_f64()
        } else {
            0.0
        };
        let finished = state.done >= state.total && state.current.is_empty();
        let eta = (rate > 0.0).then(|| {
            let left = state.bytes_total.saturating_sub(state.bytes) as f64;
            Duration::from_secs_f64(if finished { 0.0 } else { left / rate })
        });
        let report = Progress {
            operation: self.operation,
            artifacts_done: state.done,
            artifacts_total: state.total,
            bytes_done: state.bytes,
            // The estimate (database sizes) is only that: once done, the total is what was read.
            bytes_total: if finished {
                state.bytes
            } else {
                state.bytes_total.max(state.bytes)
            },
            elapsed,
            bytes_per_second: rate,
            eta,
            current: state.current.iter().cloned().collect(),
            finished,
        };
        // Called under the lock: reports arrive one at a time and in order.
        callback(&report);
    }

    pub(crate) fn started(&self, name: &str) {
        self.with_state(true, |s| {
            s.current.insert(name.to_string());
        });
    }

    pub(crate) fn bytes(&self, n: u64) {
        self.with_state(false, |s| s.bytes += n);
    }

    pub(crate) fn finished(&self, name: &str) {
        self.with_state(true, |s| {
            s.current.remove(name);
            s.done += 1;
        });
    }

    /// An artifact that failed: no longer in progress, not done.
    pub(crate) fn abandoned(&self, name: &str) {
        self.with_state(true, |s| {
            s.current.remove(name);
        });
    }
}

/// A reader that tells a tracker how many bytes went through.
pub(crate) struct Counting<'t, 'a, R> {
    inner: R,
    tracker: &'t Tracker<'a>,
}

impl<'t, 'a, R> Counting<'t, 'a, R> {
    pub(crate) fn new(inner: R, tracker: &'t Tracker<'a>) -> Self {
        Self { inner, tracker }
    }
}

impl<R: Read> Read for Counting<'_, '_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.tracker.bytes(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_counts_rate_and_the_end() {
        let seen = Mutex::new(Vec::new());
        let callback = |p: &Progress| seen.lock().unwrap().push(p.clone());
        let tracker = Tracker::new("backup", Some(&callback), 2, 1000);
        tracker.started("a");
        let mut data = Counting::new(&[7u8; 600][..], &tracker);
        io::copy(&mut data, &mut io::sink()).unwrap();
        tracker.finished("a");
        tracker.started("b");
        tracker.bytes(400);
        tracker.finished("b");
        let seen = seen.into_inner().unwrap();
        let last = seen.last().unwrap();
        assert!(last.finished);
        assert_eq!((last.artifacts_done, last.bytes_done), (2, 1000));
        assert!(last.current.is_empty());
        assert_eq!(seen.first().unwrap().current, ["a"]);
        assert!(!seen.first().unwrap().finished);
        // every start and end is reported, whatever the throttle
        assert!(seen.len() >= 4);
    }
}
