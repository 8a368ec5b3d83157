#![doc = include_str!("../README.md")]

mod create;
mod error;
mod export;
mod format;
mod import;
mod objects;
mod registry;

pub use crate::create::{
    DEFAULT_PACKAGE_NAMESPACE, PackageSpec, create_object, package_from_files,
};
pub use crate::error::{Error, Result};
pub use crate::export::{ExportReport, Selection, export_to_file, select, write_cntmp};
pub use crate::format::{
    CNTMP_FORMAT, CNTMP_FORMAT_VERSION, CheckedEntry, CntmpManifest, CntmpReader, CntmpWriter,
    EntryInfo, MANIFEST_ENTRY, ManifestObject, ReadObject, ResourceRef,
};
pub use crate::import::{
    ImportAction, ImportOptions, ImportReport, ImportedObject, import_files, import_readers,
};
pub use crate::objects::{
    Dependency, Extra, Job, Object, ObjectKind, Other, Package, PackageInfo, PackageResource,
    StagerJob, StagingPipeline,
};
pub use crate::registry::{FolderRegistry, Registry, Staged};
