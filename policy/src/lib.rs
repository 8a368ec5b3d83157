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
pub use crate::validate::validate;

/// Parses a document; `file` names it in diagnostics. Refuses a document over 512 KB.
/// Errors carry every problem found in one pass, each with its `file:line:column`.
pub fn parse(text: &str, file: &str) -> Result<Parsed> {
    if text.len() > MAX_DOCUMENT_SIZE {
        return Err(Error::TooLarge {
            file: file.to_string(),
            size: text.len(),
            limit: MAX_DOCUMENT_SIZE,
        });
    }
    parser::parse_document(text, file).map_err(|diagnostics| Error::Invalid {
        file: file.to_string(),
        diagnostics,
    })
}

/// Parses and validates a document. Returns its warnings, or an error with every error
/// (and warning) found.
pub fn check(text: &str, file: &str) -> Result<Vec<Diagnostic>> {
    let parsed = parse(text, file)?;
    let mut diagnostics = parsed.warnings;
    diagnostics.extend(validate(&parsed.document, text, file));
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
    if again.document.to_model() != parsed.document.to_model()
        || again.document.comment_texts() != parsed.document.comment_texts()
    {
        return Err(Error::FormatterChangedMeaning {
            file: file.to_string(),
        });
    }
    Ok(out)
}
