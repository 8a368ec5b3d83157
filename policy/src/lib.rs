#![doc = include_str!("../README.md")]

mod diagnostic;
mod error;
mod format;
mod lexer;
mod model;
mod parser;
mod store;
mod tree;
mod validate;

use crate::diagnostic::LineIndex;
pub use crate::diagnostic::{Diagnostic, Severity, Span};
pub use crate::error::{Error, Result};
pub use crate::format::format_document;
pub use crate::model::{
    ApiDoc, ApiDocs, ConditionModel, ConsequentModel, DocumentModel, PolicyModel, RuleModel,
};
pub use crate::parser::{MAX_DOCUMENT_SIZE, Parsed};
pub use crate::store::{
    EXTENSION, ExportReport, FolderPolicyStore, ImportOptions, ImportOutcome, ImportReport,
    ImportedDocument, PolicyStore, expand_patterns, export, import, read_document_file,
    validate_name,
};
pub use crate::tree::{Clause, Comment, Condition, Consequent, Document, Policy, Rule, Value};
use crate::validate::Validator;
pub use crate::validate::validate;

/// Parses a document; `file` names it in diagnostics. Refuses a document over 512 KB.
/// Errors carry every problem found in one pass, each with its `file:line:column`.
pub fn parse(text: &str, file: &str) -> Result<Parsed> {
    parse_with(text, file, &LineIndex::new(text), |_| {})
}

/// [`parse`] with the line index of `text`; `on_policy` sees the policies read so far each
/// time one more is read.
fn parse_with<'a>(
    text: &'a str,
    file: &'a str,
    index: &'a LineIndex<'a>,
    on_policy: impl FnMut(&[Policy]),
) -> Result<Parsed> {
    if text.len() > MAX_DOCUMENT_SIZE {
        return Err(Error::TooLarge {
            file: file.to_string(),
            size: text.len(),
            limit: MAX_DOCUMENT_SIZE,
        });
    }
    parser::parse_document_with(text, file, index, on_policy).map_err(|diagnostics| {
        Error::Invalid {
            file: file.to_string(),
            diagnostics,
        }
    })
}

/// Parses and validates a document. Returns its warnings, or an error with every error
/// (and warning) found.
pub fn check(text: &str, file: &str) -> Result<Vec<Diagnostic>> {
    // One line index for the parser and the validator, built only if a diagnostic needs it.
    let index = LineIndex::new(text);
    // Each policy is validated as soon as it is read, while it is still in the cache.
    let mut validator = Validator::new(&index, file, text.len() / 128);
    let parsed = parse_with(text, file, &index, |policies| validator.policy(policies))?;
    let mut diagnostics = parsed.warnings;
    diagnostics.extend(validator.finish());
    diagnostics.sort_by_key(|d| (d.line, d.column));
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(Error::Invalid {
            file: file.to_string(),
            diagnostics,
        });
    }
    Ok(diagnostics)
}

/// Formats a document in the canonical layout. The output is parsed again and must have
/// the same model and the same comments, in the same order, as the input; otherwise nothing
/// is returned but an error.
pub fn format(text: &str, file: &str) -> Result<String> {
    let parsed = parse(text, file)?;
    let out = format_document(&parsed.document);
    // The output may be a little longer than the input: the size limit is the input's.
    let again = parser::parse_document(&out, file).map_err(|_| Error::FormatterChangedMeaning {
        file: file.to_string(),
    })?;
    if !again.document.same_model(&parsed.document)
        || again.document.comment_texts() != parsed.document.comment_texts()
    {
        return Err(Error::FormatterChangedMeaning {
            file: file.to_string(),
        });
    }
    Ok(out)
}
