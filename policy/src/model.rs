//! The model: documents → policies → rules → clauses and consequents, for programs (serde),
//! without comments or places. Two texts that mean the same have equal models.

use serde::{Deserialize, Serialize};

use crate::tree::{self, Value};

/// A document as data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DocumentModel {
    /// The document's name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The header's description, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The policies.
    pub policies: Vec<PolicyModel>,
}

/// A policy as data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PolicyModel {
    /// The realm, in its canonical form (no trailing `/`).
    pub realm: String,
    /// The rules.
    pub rules: Vec<RuleModel>,
}

/// A rule as data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RuleModel {
    /// The condition; absent for an unconditional rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<ConditionModel>,
    /// The consequents.
    pub consequents: Vec<ConsequentModel>,
}

/// A condition as data: groups are gone and nested `&&`/`||` are flattened.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
#[non_exhaustive]
pub enum ConditionModel {
    /// `subject comparator value`.
    Clause {
        /// The issuer, for `issuer->claim`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        issuer: Option<String>,
        /// The claim.
        claim: String,
        /// The comparator.
        comparator: String,
        /// The value.
        value: Value,
    },
    /// All must hold.
    All {
        /// The conditions.
        of: Vec<ConditionModel>,
    },
    /// One must hold.
    Any {
        /// The conditions.
        of: Vec<ConditionModel>,
    },
    /// Must not hold.
    Not {
        /// The condition.
        of: Box<ConditionModel>,
    },
}

/// A consequent as data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConsequentModel {
    /// The claim type.
    pub claim: String,
    /// The values.
    pub values: Vec<Value>,
}

/// A realm without a trailing `/` (but `job::/` stays).
pub(crate) fn canonical_realm(realm: &str) -> String {
    canonical_realm_str(realm).to_string()
}

/// [`canonical_realm`], borrowed from the realm as written.
pub(crate) fn canonical_realm_str(realm: &str) -> &str {
    // Every trailing `/` goes, so that `job::/a//` and `job::/a/` read back the same.
    let mut out = realm;
    while let Some(rest) = out.strip_suffix('/') {
        if rest.ends_with("::") || rest.is_empty() {
            break;
        }
        out = rest;
    }
    out
}

impl tree::Document {
    /// The model of this document.
    pub fn to_model(&self) -> DocumentModel {
        DocumentModel {
            name: self.name.clone(),
            description: self.description.clone(),
            policies: self
                .policies
                .iter()
                .map(|p| PolicyModel {
                    realm: canonical_realm(&p.realm),
                    rules: p
                        .rules
                        .iter()
                        .map(|r| RuleModel {
                            condition: r.condition.as_ref().map(condition_model),
                            consequents: r
                                .consequents
                                .iter()
                                .map(|c| ConsequentModel {
                                    claim: c.claim.clone(),
                                    values: c.values.clone(),
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

impl tree::Document {
    /// True when both documents have the same model (`a.to_model() == b.to_model()`),
    /// without building the models.
    pub(crate) fn same_model(&self, other: &Self) -> bool {
        self.name == other.name
            && self.description == other.description
            && self.policies.len() == other.policies.len()
            && self.policies.iter().zip(&other.policies).all(|(a, b)| {
                canonical_realm_str(&a.realm) == canonical_realm_str(&b.realm)
                    && a.rules.len() == b.rules.len()
                    && a.rules.iter().zip(&b.rules).all(|(x, y)| rule_eq(x, y))
            })
    }
}

/// True when two rules have equal models.
pub(crate) fn rule_eq(a: &tree::Rule, b: &tree::Rule) -> bool {
    let conditions = match (&a.condition, &b.condition) {
        (None, None) => true,
        (Some(x), Some(y)) => condition_eq(x, y),
        _ => false,
    };
    conditions
        && a.consequents.len() == b.consequents.len()
        && a.consequents
            .iter()
            .zip(&b.consequents)
            .all(|(x, y)| x.claim == y.claim && x.values == y.values)
}

/// A condition without its groups, as in the model.
pub(crate) fn ungroup(mut c: &tree::Condition) -> &tree::Condition {
    while let tree::Condition::Group(inner) = c {
        c = inner;
    }
    c
}

/// The operands of `&&` (`and`) or `||` as in the model: groups gone, and the operands of
/// the same operator nested in them flattened.
pub(crate) fn operands<'t>(
    items: &'t [tree::Condition],
    and: bool,
    out: &mut Vec<&'t tree::Condition>,
) {
    for item in items {
        match ungroup(item) {
            tree::Condition::And(inner) if and => operands(inner, and, out),
            tree::Condition::Or(inner) if !and => operands(inner, and, out),
            other => out.push(other),
        }
    }
}

/// True when two conditions have equal models.
fn condition_eq(a: &tree::Condition, b: &tree::Condition) -> bool {
    fn operands_eq(x: &[tree::Condition], y: &[tree::Condition], and: bool) -> bool {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        operands(x, and, &mut a);
        operands(y, and, &mut b);
        a.len() == b.len() && a.iter().zip(&b).all(|(p, q)| condition_eq(p, q))
    }
    match (ungroup(a), ungroup(b)) {
        (tree::Condition::Clause(x), tree::Condition::Clause(y)) => {
            x.issuer == y.issuer
                && x.claim == y.claim
                && x.comparator == y.comparator
                && x.value == y.value
        }
        (tree::Condition::And(x), tree::Condition::And(y)) => operands_eq(x, y, true),
        (tree::Condition::Or(x), tree::Condition::Or(y)) => operands_eq(x, y, false),
        (tree::Condition::Not(x), tree::Condition::Not(y)) => condition_eq(x, y),
        _ => false,
    }
}

fn condition_model(c: &tree::Condition) -> ConditionModel {
    match c {
        tree::Condition::Clause(cl) => ConditionModel::Clause {
            issuer: cl.issuer.clone(),
            claim: cl.claim.clone(),
            comparator: cl.comparator.clone(),
            value: cl.value.clone(),
        },
        tree::Condition::Group(inner) => condition_model(inner),
        tree::Condition::Not(inner) => ConditionModel::Not {
            of: Box::new(condition_model(inner)),
        },
        tree::Condition::And(items) => ConditionModel::All {
            of: flatten(items, |m| match m {
                ConditionModel::All { of } => Ok(of),
                other => Err(other),
            }),
        },
        tree::Condition::Or(items) => ConditionModel::Any {
            of: flatten(items, |m| match m {
                ConditionModel::Any { of } => Ok(of),
                other => Err(other),
            }),
        },
    }
}

fn flatten(
    items: &[tree::Condition],
    same: impl Fn(ConditionModel) -> Result<Vec<ConditionModel>, ConditionModel>,
) -> Vec<ConditionModel> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match same(condition_model(item)) {
            Ok(nested) => out.extend(nested),
            Err(single) => out.push(single),
        }
    }
    out
}

/// The policy API's JSON form: `{"docs": [{"name": …, "for_version": …, "text": …}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct ApiDocs {
    /// The documents.
    pub docs: Vec<ApiDoc>,
}

/// One document in the policy API's JSON form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiDoc {
    /// The document's name.
    pub name: String,
    /// The policy version the document was written for, as the API gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_version: Option<serde_json::Value>,
    /// The document's text.
    pub text: String,
}

impl ApiDoc {
    /// A document with a name and its text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            for_version: None,
            text: text.into(),
        }
    }
}

impl ApiDocs {
    /// The given documents.
    pub fn new(docs: Vec<ApiDoc>) -> Self {
        Self { docs }
    }

    /// Reads the API JSON; `file` names it in errors.
    pub fn from_json(file: &str, bytes: &[u8]) -> crate::Result<Self> {
        serde_json::from_slice(bytes)
            .map_err(|e| crate::Error::Core(continuum_core::Error::json(file, &e)))
    }

    /// Writes the API JSON, pretty, with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use crate::parser::parse_document;

    /// Conditions that read alike in several ways, and some that differ a little.
    const CONDITIONS: &[&str] = &[
        "a == 1",
        "(a == 1)",
        "a == 1 && b == 2",
        "(a == 1) && b == 2",
        "a == 1 && (b == 2 && c == 3)",
        "(a == 1 && b == 2) && c == 3",
        "a == 1 && b == 2 && c == 3",
        "a == 1 || b == 2",
        "(a == 1 || b == 2) || c == 3",
        "a == 1 || (b == 2 || c == 3)",
        "a == 1 || b == 2 && c == 3",
        "(a == 1 || b == 2) && c == 3",
        "!(a == 1)",
        "!((a == 1))",
        "!(a == 1 && b == 2)",
        "x->a == 1",
        "a != 1",
        "a == \"1\"",
        "a == [n]",
    ];

    #[test]
    fn same_model_agrees_with_the_models() {
        let mut docs = Vec::new();
        for realm in ["job::/a", "job::/a//", "job::/b"] {
            for c in CONDITIONS {
                for body in ["permit read", "permit read, create; role x"] {
                    let text = format!("on {realm} {{\n    if ({c}) {{ {body} }}\n}}\n");
                    docs.push(parse_document(&text, "t.pol").unwrap().document);
                }
            }
            let text = format!("on {realm} {{ {{ permit read }} }}");
            docs.push(parse_document(&text, "t.pol").unwrap().document);
        }
        for a in &docs {
            for b in &docs {
                let same = a.to_model() == b.to_model();
                assert_eq!(a.same_model(b), same, "{a:?}\n{b:?}");
                assert_eq!(
                    super::rule_eq(&a.policies[0].rules[0], &b.policies[0].rules[0]),
                    a.to_model().policies[0].rules == b.to_model().policies[0].rules,
                );
            }
        }
    }
}
