//! Retention: which backup sets to keep, and why.

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How many sets to keep. Rules add up: a set is kept when any rule selects it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RetentionPolicy {
    /// The newest N sets.
    pub keep_last: u32,
    /// The newest set of each of the last N days (UTC) that have a set.
    pub keep_daily: u32,
    /// The newest set of each of the last N ISO weeks that have a set.
    pub keep_weekly: u32,
    /// The newest set of each of the last N months that have a set.
    pub keep_monthly: u32,
    /// Whatever the rules say, never keep fewer than this many sets (the newest).
    pub min_keep: u32,
}

impl RetentionPolicy {
    /// A policy that keeps the newest `keep_last` sets.
    pub fn last(keep_last: u32) -> Self {
        Self {
            keep_last,
            ..Self::default()
        }
    }

    /// Refuses a policy with no rule at all, which would remove every set.
    pub fn validate(&self) -> Result<()> {
        let empty = self.keep_last == 0
            && self.keep_daily == 0
            && self.keep_weekly == 0
            && self.keep_monthly == 0
            && self.min_keep == 0;
        if empty {
            return Err(Error::InvalidInput {
                what: "retention policy",
                value: "(no rule)".to_string(),
                reason: "give at least one of keep_last, keep_daily, keep_weekly, keep_monthly or min_keep; \
                         an empty policy would remove every set"
                    .to_string(),
            });
        }
        Ok(())
    }
}

/// The decision for one set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Decision {
    /// The set.
    pub set_id: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// Kept or removed.
    pub keep: bool,
    /// Why: every rule that keeps it, or why none did.
    pub reasons: Vec<String>,
}

/// Decides, for sets given with their creation times, which to keep.
///
/// Returns one decision per set, newest first. Refuses a policy with no rule at all, which
/// would remove every set.
pub fn decide(sets: &[(String, Timestamp)], policy: &RetentionPolicy) -> Result<Vec<Decision>> {
    policy.validate()?;
    let mut sorted: Vec<&(String, Timestamp)> = sets.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));

    let mut days = BTreeSet::new();
    let mut weeks = BTreeSet::new();
    let mut months = BTreeSet::new();
    let mut out: Vec<Decision> = Vec::with_capacity(sorted.len());
    for (index, (id, created)) in sorted.iter().enumerate() {
        let date = created.to_zoned_datetime(TimeZone::UTC).date();
        let mut reasons = Vec::new();
        if (index as u64) < u64::from(policy.keep_last) {
            reasons.push(format!("keep_last: one of the newest {}", policy.keep_last));
        }
        let day = date.to_string();
        if !days.contains(&day) && days.len() < policy.keep_daily as usize {
            reasons.push(format!("keep_daily: newest of {day}"));
            days.insert(day);
        }
        let iso = date.iso_week_date();
        let week = format!("{}-W{:02}", iso.year(), iso.week());
        if !weeks.contains(&week) && weeks.len() < policy.keep_weekly as usize {
            reasons.push(format!("keep_weekly: newest of week {week}"));
            weeks.insert(week);
        }
        let month = format!("{}-{:02}", date.year(), date.month());
        if !months.contains(&month) && months.len() < policy.keep_monthly as usize {
            reasons.push(format!("keep_monthly: newest of {month}"));
            months.insert(month);
        }
        out.push(Decision {
            set_id: id.clone(),
            created_at: *created,
            keep: !reasons.is_empty(),
            reasons,
        });
    }
    let mut kept = out.iter().filter(|d| d.keep).count();
    for decision in &mut out {
        if kept >= policy.min_keep as usize {
            break;
        }
        if !decision.keep {
            decision.keep = true;
            decision.reasons.push(format!(
                "min_keep: at least {} sets are kept",
                policy.min_keep
            ));
            kept += 1;
        }
    }
    for decision in out.iter_mut().filter(|d| !d.keep) {
        decision.reasons.push("no rule keeps it".to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn sets() -> Vec<(String, Timestamp)> {
        [
            ("a", "2026-11-01T10:00:00Z"),
            ("b", "2026-11-01T22:00:00Z"),
            ("c", "2026-11-02T10:00:00Z"),
            ("d", "2026-11-09T10:00:00Z"),
            ("e", "2026-11-10T08:00:00Z"),
            ("f", "2026-11-10T09:00:00Z"),
        ]
        .iter()
        .map(|(id, t)| (id.to_string(), at(t)))
        .collect()
    }

    fn kept(decisions: &[Decision]) -> Vec<&str> {
        decisions
            .iter()
            .filter(|d| d.keep)
            .map(|d| d.set_id.as_str())
            .collect()
    }

    #[test]
    fn keep_last_keeps_the_newest() {
        let d = decide(&sets(), &RetentionPolicy::last(2)).unwrap();
        assert_eq!(kept(&d), ["f", "e"]);
        assert_eq!(d.len(), 6);
        let removed = d.iter().find(|d| d.set_id == "a").unwrap();
        assert_eq!(removed.reasons, ["no rule keeps it"]);
    }

    #[test]
    fn daily_and_weekly_buckets() {
        let policy = RetentionPolicy {
            keep_daily: 3,
            ..RetentionPolicy::default()
        };
        // newest per day: f (11-10), d (11-09), c (11-02)
        assert_eq!(kept(&decide(&sets(), &policy).unwrap()), ["f", "d", "c"]);
        let policy = RetentionPolicy {
            keep_weekly: 2,
            ..RetentionPolicy::default()
        };
        // 11-09 and 11-10 are ISO week 46; 11-02 is week 45; 11-01 (a Sunday) is week 44
        assert_eq!(kept(&decide(&sets(), &policy).unwrap()), ["f", "c"]);
    }

    #[test]
    fn min_keep_is_a_floor_and_empty_policy_is_refused() {
        let policy = RetentionPolicy {
            keep_last: 1,
            min_keep: 3,
            ..RetentionPolicy::default()
        };
        let d = decide(&sets(), &policy).unwrap();
        assert_eq!(kept(&d), ["f", "e", "d"]);
        assert!(d[2].reasons[0].starts_with("min_keep"));
        assert!(decide(&sets(), &RetentionPolicy::default()).is_err());
    }
}
