//! The validator: what parses but cannot be right (errors) or looks wrong (warnings).

use std::collections::hash_map::Entry;
use std::hash::{Hash, Hasher};

use continuum_core::{Fqn, ResourceType};
use rustc_hash::{FxBuildHasher, FxHashMap, FxHasher};

use crate::diagnostic::{Diagnostic, LineIndex, Severity, Span};
use crate::model::{canonical_realm_str, operands, rule_eq, ungroup};
use crate::tree::{Clause, Condition, Document, Policy, Rule, Value};

/// Permission verbs every resource type knows.
const COMMON_VERBS: &[&str] = &["all", "create", "read", "update", "delete", "admin"];

/// Verbs a resource type knows beyond the common ones.
fn extra_verbs(t: ResourceType) -> &'static [&'static str] {
    match t {
        ResourceType::Job => &[
            "start", "stop", "map", "ssh", "link", "bind", "promote", "issue", "use",
        ],
        ResourceType::Package => &["use", "bind"],
        ResourceType::Service | ResourceType::Provider | ResourceType::Binding => &["bind", "use"],
        ResourceType::Network => &["join", "use"],
        ResourceType::Route => &["map"],
        ResourceType::Gateway => &["use", "promote"],
        ResourceType::StagPipe | ResourceType::SemPipeRule => &["use"],
        ResourceType::Auth => &["issue"],
        ResourceType::Secret => &["use", "import", "export"],
        _ => &[],
    }
}

/// Checks a parsed document; `text` is its source (for places), `file` names it.
pub fn validate(doc: &Document, text: &str, file: &str) -> Vec<Diagnostic> {
    let index = LineIndex::new(text);
    let rules = doc.policies.iter().map(|p| p.rules.len()).sum();
    let mut validator = Validator::new(&index, file, rules);
    for end in 1..=doc.policies.len() {
        validator.policy(doc.policies.get(..end).unwrap_or_default());
    }
    validator.finish()
}

/// The validator, one policy at a time: [`check`](crate::check) runs it on each policy as
/// soon as it is parsed, while the policy is still in the cache.
pub(crate) struct Validator<'i> {
    index: &'i LineIndex<'i>,
    file: &'i str,
    out: Findings,
    /// Duplicates are rules with the same canonical realm and the same model. The models are
    /// not built: each rule is hashed as its model would be, and compared with the rules of
    /// the same hash. A hash leads to the first of its rules in `rules`.
    first_of_hash: FxHashMap<u64, usize>,
    rules: Vec<SeenRule>,
}

/// A rule seen by the duplicate check (the first of its kind).
struct SeenRule {
    policy: usize,
    rule: usize,
    /// The next rule seen with the same hash.
    next: Option<usize>,
}

impl<'i> Validator<'i> {
    /// A validator; `rules` is about how many rules it will see.
    pub(crate) fn new(index: &'i LineIndex<'i>, file: &'i str, rules: usize) -> Self {
        Self {
            index,
            file,
            out: Findings::default(),
            first_of_hash: FxHashMap::with_capacity_and_hasher(rules, FxBuildHasher),
            rules: Vec::with_capacity(rules),
        }
    }

    /// Checks the last policy of `policies`; those before it were checked already.
    pub(crate) fn policy(&mut self, policies: &[Policy]) {
        let Some((policy, _)) = policies.split_last() else {
            return;
        };
        let policy_at = policies.len() - 1;
        let (index, file) = (self.index, self.file);
        let out = &mut self.out;
        let realm_text = canonical_realm_str(&policy.realm);
        let realm = match Fqn::parse(realm_text) {
            Ok(fqn) if fqn.resource_type().is_some() => Some(fqn),
            Ok(_) => {
                out.add(Severity::Error, || {
                    index.diagnostic(
                        file,
                        Severity::Error,
                        policy.realm_span,
                        format!("realm `{realm_text}` has no resource type"),
                        Some(format!(
                            "write it as an FQN with its type, such as `job::{realm_text}`"
                        )),
                    )
                });
                None
            }
            Err(e) => {
                out.add(Severity::Error, || {
                    index.diagnostic(
                        file,
                        Severity::Error,
                        policy.realm_span,
                        format!("realm `{realm_text}` is not a valid FQN: {}", reason_of(&e)),
                        None,
                    )
                });
                None
            }
        };
        let resource_type = realm.as_ref().and_then(Fqn::resource_type);
        for (rule_at, rule) in policy.rules.iter().enumerate() {
            // duplicates (in any policy of the same realm)
            let hash = rule_hash(realm_text, rule);
            let first = match self.first_of_hash.entry(hash) {
                Entry::Vacant(slot) => {
                    slot.insert(self.rules.len());
                    self.rules.push(SeenRule {
                        policy: policy_at,
                        rule: rule_at,
                        next: None,
                    });
                    None
                }
                Entry::Occupied(head) => find_or_add(
                    &mut self.rules,
                    *head.get(),
                    policies,
                    realm_text,
                    rule,
                    rule_at,
                ),
            };
            if let Some(first) = first {
                out.add(Severity::Warning, || {
                    let (line, _) = index.position(first.start);
                    index.diagnostic(
                        file,
                        Severity::Warning,
                        rule.span,
                        format!(
                            "duplicate rule: the same rule for `{realm_text}` stands at line {line}"
                        ),
                        None,
                    )
                });
            }
            // conditions that can never hold
            if let Some(condition) = &rule.condition
                && let Some(why) = never_holds(condition, resource_type)
            {
                let span = condition_span(condition, rule.span);
                out.add(Severity::Warning, || {
                    index.diagnostic(
                        file,
                        Severity::Warning,
                        span,
                        format!("this rule can never match: {why}"),
                        None,
                    )
                });
            }
            for consequent in &rule.consequents {
                // permission verbs per resource type
                if consequent.claim == "permit"
                    && let Some(t) = resource_type
                {
                    for value in &consequent.values {
                        let verb = match value {
                            Value::Word(w) | Value::String(w) => w.as_str(),
                            _ => continue,
                        };
                        if !COMMON_VERBS.contains(&verb) && !extra_verbs(t).contains(&verb) {
                            let mut known: Vec<&str> =
                                COMMON_VERBS.iter().chain(extra_verbs(t)).copied().collect();
                            known.sort_unstable();
                            out.add(Severity::Warning, || {
                                index.diagnostic(
                                    file,
                                    Severity::Warning,
                                    consequent.span,
                                    format!("`{verb}` is not a permission known for `{t}` realms"),
                                    Some(format!("known: {}", known.join(", "))),
                                )
                            });
                        }
                    }
                }
                // templates take their value from the realm
                for value in &consequent.values {
                    check_template(value, &policy.realm, consequent.span, index, file, out);
                }
            }
            if let Some(c) = &rule.condition {
                for_each_clause(c, &mut |clause| {
                    check_template(&clause.value, &policy.realm, clause.span, index, file, out);
                });
            }
        }
    }

    /// The findings, in document order.
    pub(crate) fn finish(self) -> Vec<Diagnostic> {
        self.out.finish(self.index, self.file)
    }
}

/// Looks for a rule equal to `rule` (of the realm `realm`) among the rules seen with its hash,
/// from `at` on: returns the place of the first, or records `rule` as the last of the hash
/// (it stands at `rule_at` in the last of `policies`).
fn find_or_add(
    seen: &mut Vec<SeenRule>,
    mut at: usize,
    policies: &[Policy],
    realm: &str,
    rule: &Rule,
    rule_at: usize,
) -> Option<Span> {
    loop {
        let entry = seen.get(at)?;
        if let Some(policy) = policies.get(entry.policy)
            && let Some(other) = policy.rules.get(entry.rule)
            && canonical_realm_str(&policy.realm) == realm
            && rule_eq(other, rule)
        {
            return Some(other.span);
        }
        match entry.next {
            Some(next) => at = next,
            None => {
                let added = seen.len();
                seen.push(SeenRule {
                    policy: policies.len().saturating_sub(1),
                    rule: rule_at,
                    next: None,
                });
                if let Some(entry) = seen.get_mut(at) {
                    entry.next = Some(added);
                }
                return None;
            }
        }
    }
}

/// The hash of a rule's canonical realm and model: equal models, equal hashes.
fn rule_hash(realm: &str, rule: &Rule) -> u64 {
    let mut h = FxHasher::default();
    realm.hash(&mut h);
    match &rule.condition {
        None => h.write_u8(0),
        Some(c) => {
            h.write_u8(1);
            hash_condition(c, &mut h);
        }
    }
    h.write_usize(rule.consequents.len());
    for c in &rule.consequents {
        c.claim.hash(&mut h);
        c.values.hash(&mut h);
    }
    h.finish()
}

/// Hashes a condition as its model: equal models, equal hashes.
fn hash_condition(c: &Condition, h: &mut FxHasher) {
    fn hash_operands(items: &[Condition], and: bool, h: &mut FxHasher) {
        for item in items {
            match ungroup(item) {
                Condition::And(inner) if and => hash_operands(inner, and, h),
                Condition::Or(inner) if !and => hash_operands(inner, and, h),
                other => hash_condition(other, h),
            }
        }
    }
    match ungroup(c) {
        Condition::Clause(cl) => {
            h.write_u8(0);
            cl.issuer.hash(h);
            cl.claim.hash(h);
            cl.comparator.hash(h);
            cl.value.hash(h);
        }
        Condition::And(items) => {
            h.write_u8(1);
            hash_operands(items, true, h);
            h.write_u8(4);
        }
        Condition::Or(items) => {
            h.write_u8(2);
            hash_operands(items, false, h);
            h.write_u8(4);
        }
        Condition::Not(inner) => {
            h.write_u8(3);
            hash_condition(inner, h);
        }
        Condition::Group(inner) => hash_condition(inner, h),
    }
}

/// Findings, capped as they are made: a hostile document with a finding per rule must not
/// cost a diagnostic (and a copy of its line) per rule.
#[derive(Default)]
struct Findings {
    list: Vec<Diagnostic>,
    errors: usize,
    warnings: usize,
}

const MAX_ERRORS: usize = 50;

impl Findings {
    fn add(&mut self, severity: Severity, make: impl FnOnce() -> Diagnostic) {
        let (count, cap) = match severity {
            Severity::Error => (&mut self.errors, MAX_ERRORS),
            Severity::Warning => (&mut self.warnings, crate::parser::MAX_WARNINGS),
        };
        *count += 1;
        if *count <= cap {
            self.list.push(make());
        }
    }

    fn finish(mut self, index: &LineIndex<'_>, file: &str) -> Vec<Diagnostic> {
        let end = index.text_len();
        self.list.sort_by_key(|d| (d.line, d.column));
        let dropped = self.errors.saturating_sub(MAX_ERRORS)
            + self.warnings.saturating_sub(crate::parser::MAX_WARNINGS);
        if dropped > 0 {
            self.list.push(index.diagnostic(
                file,
                Severity::Warning,
                Span::new(end, end),
                format!("{dropped} more finding(s) not shown"),
                None,
            ));
        }
        self.list
    }
}

fn reason_of(e: &continuum_core::Error) -> String {
    match e {
        continuum_core::Error::InvalidFqn { column, reason, .. } => {
            format!("{reason} (column {column} of the realm)")
        }
        other => other.to_string(),
    }
}

fn check_template(
    value: &Value,
    realm: &str,
    span: Span,
    index: &LineIndex<'_>,
    file: &str,
    out: &mut Findings,
) {
    if let Value::Template(name) = value
        && !binds(realm, name)
    {
        out.add(Severity::Error, || {
            index.diagnostic(file, Severity::Error,
            span,
            format!("template `[{name}]` is not bound by the realm `{realm}`"),
            Some(format!(
                "a template takes its value from the realm's FQN, such as `job::/sandbox/[{name}]`"
            )),
        )
        });
    }
}

/// True when `realm` holds `[name]`.
fn binds(realm: &str, name: &str) -> bool {
    realm.match_indices('[').any(|(at, _)| {
        realm
            .get(at + 1..)
            .and_then(|rest| rest.strip_prefix(name))
            .is_some_and(|rest| rest.starts_with(']'))
    })
}

fn for_each_clause<'t>(c: &'t Condition, f: &mut impl FnMut(&'t Clause)) {
    match c {
        Condition::Clause(cl) => f(cl),
        Condition::And(items) | Condition::Or(items) => {
            items.iter().for_each(|i| for_each_clause(i, f))
        }
        Condition::Not(inner) | Condition::Group(inner) => for_each_clause(inner, f),
    }
}

fn condition_span(c: &Condition, fallback: Span) -> Span {
    let mut span: Option<Span> = None;
    for_each_clause(c, &mut |cl| {
        span = Some(span.map_or(cl.span, |s| s.to(cl.span)))
    });
    span.unwrap_or(fallback)
}

/// Why a condition can never hold, when it is plain to see. Reads the condition as its model
/// (groups gone, nested `&&` / `||` flattened).
fn never_holds(c: &Condition, realm_type: Option<ResourceType>) -> Option<String> {
    match ungroup(c) {
        Condition::Clause(Clause {
            issuer: None,
            claim,
            comparator,
            value,
            ..
        }) if claim == "ResType" && comparator == "==" => {
            let (Some(t), Value::Word(v) | Value::String(v)) = (realm_type, value) else {
                return None;
            };
            (ResourceType::from_name(v).is_some_and(|other| other != t))
                .then(|| format!("in a `{t}` realm the resource type is always `{t}`, never `{v}`"))
        }
        Condition::And(items) => {
            let mut of = Vec::new();
            operands(items, true, &mut of);
            let mut equal: FxHashMap<(Option<&str>, &str), &Value> = FxHashMap::default();
            for item in of {
                if let Some(why) = never_holds(item, realm_type) {
                    return Some(why);
                }
                if let Condition::Clause(Clause {
                    issuer,
                    claim,
                    comparator,
                    value,
                    ..
                }) = item
                    && comparator == "=="
                {
                    let subject = (issuer.as_deref(), claim.as_str());
                    if let Some(previous) = equal.get(&subject)
                        && *previous != value
                        && !matches!(value, Value::Template(_))
                        && !matches!(previous, Value::Template(_))
                    {
                        let name = match issuer {
                            Some(i) => format!("{i}->{claim}"),
                            None => claim.clone(),
                        };
                        return Some(format!(
                            "`{name}` cannot equal both {} and {}",
                            previous.to_source(),
                            value.to_source()
                        ));
                    }
                    equal.insert(subject, value);
                }
            }
            None
        }
        Condition::Or(items) => {
            let mut of = Vec::new();
            operands(items, false, &mut of);
            let reasons: Vec<String> = of
                .iter()
                .filter_map(|i| never_holds(i, realm_type))
                .collect();
            (reasons.len() == of.len() && !of.is_empty()).then(|| reasons.join("; and "))
        }
        _ => None,
    }
}
