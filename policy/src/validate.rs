//! The validator: what parses but cannot be right (errors) or looks wrong (warnings).

use std::collections::HashMap;

use continuum_core::{Fqn, ResourceType};

use crate::diagnostic::{Diagnostic, LineIndex, Severity, Span};
use crate::model::{ConditionModel, RuleModel, canonical_realm};
use crate::tree::{Condition, Document, Value};

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
    let mut out = Findings::default();
    let mut seen: HashMap<(String, RuleModel), Span> = HashMap::new();
    let model = doc.to_model();
    for (policy, policy_model) in doc.policies.iter().zip(&model.policies) {
        let realm_text = canonical_realm(&policy.realm);
        let realm = match Fqn::parse(&realm_text) {
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
        for (rule, rule_model) in policy.rules.iter().zip(&policy_model.rules) {
            // duplicates (in any policy of the same realm)
            let key = (realm_text.clone(), rule_model.clone());
            if let Some(first) = seen.get(&key) {
                let (line, _) = index.position(first.start);
                out.add(Severity::Warning, || {
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
            } else {
                seen.insert(key, rule.span);
            }
            // conditions that can never hold
            if let Some(condition) = &rule_model.condition
                && let Some(why) = never_holds(condition, resource_type)
            {
                let span = rule
                    .condition
                    .as_ref()
                    .map_or(rule.span, |c| condition_span(c, rule.span));
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
                    check_template(
                        value,
                        &policy.realm,
                        consequent.span,
                        &index,
                        file,
                        &mut out,
                    );
                }
            }
            if let Some(c) = &rule.condition {
                for_each_clause(c, &mut |clause| {
                    check_template(
                        &clause.value,
                        &policy.realm,
                        clause.span,
                        &index,
                        file,
                        &mut out,
                    );
                });
            }
        }
    }
    out.finish(&index, file, text.len())
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

    fn finish(mut self, index: &LineIndex<'_>, file: &str, end: usize) -> Vec<Diagnostic> {
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
        && !realm.contains(&format!("[{name}]"))
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

fn for_each_clause<'t>(c: &'t Condition, f: &mut impl FnMut(&'t crate::tree::Clause)) {
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

/// Why a condition can never hold, when it is plain to see.
fn never_holds(c: &ConditionModel, realm_type: Option<ResourceType>) -> Option<String> {
    match c {
        ConditionModel::Clause {
            issuer: None,
            claim,
            comparator,
            value,
        } if claim == "ResType" && comparator == "==" => {
            let (Some(t), Value::Word(v) | Value::String(v)) = (realm_type, value) else {
                return None;
            };
            (ResourceType::from_name(v).is_some_and(|other| other != t))
                .then(|| format!("in a `{t}` realm the resource type is always `{t}`, never `{v}`"))
        }
        ConditionModel::All { of } => {
            let mut equal: HashMap<(Option<&str>, &str), &Value> = HashMap::new();
            for item in of {
                if let Some(why) = never_holds(item, realm_type) {
                    return Some(why);
                }
                if let ConditionModel::Clause {
                    issuer,
                    claim,
                    comparator,
                    value,
                } = item
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
        ConditionModel::Any { of } => {
            let reasons: Vec<String> = of
                .iter()
                .filter_map(|i| never_holds(i, realm_type))
                .collect();
            (reasons.len() == of.len() && !of.is_empty()).then(|| reasons.join("; and "))
        }
        _ => None,
    }
}
