// The control plane's pure core (no I/O): the export/import document and its diff.

export {
  type CollectionDiff,
  DocumentDiff,
  diffCollections,
  diffDocuments,
  diffValues,
  FieldChange,
  ImportResult,
  isEmptyDiff,
  isJsonEqual,
} from './document-diff.js';
export {
  ControlExportDocument,
  EXPORT_API_VERSION,
  EXPORT_KIND,
  ExportAgent,
  ExportPolicy,
  type NormalAgent,
  type NormalExportDocument,
  type NormalPolicy,
  normaliseAgent,
  normaliseExportDocument,
  normalisePolicy,
  validateExportDocument,
} from './export-document.js';
