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
    // Every trailing `/` goes, so that `job::/a//` and `job::/a/` read back the same.
    let mut out = realm;
    while let Some(rest) = out.strip_suffix('/') {
        if rest.ends_with("::") || rest.is_empty() {
            break;
        }
        out = rest;
    }
    out.to_string()
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
