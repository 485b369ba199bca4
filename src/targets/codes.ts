// Diagnostic codes of the compile targets (ASG4xxx, see src/diagnostics/catalogue.ts for the
// numbering by stage). Kept beside the targets so adding one touches this folder only; the entries
// have the catalogue's shape and go through its `diag` helper.

import type { CatalogueEntry } from '../diagnostics/catalogue.js';

const entry = (code: string, title: string): CatalogueEntry => ({ code, severity: 'error', title });

export const TargetCodes = {
  UnknownProfile: entry('ASG4001', 'compile profile not defined'),
  MissingProfileSetting: entry('ASG4002', 'profile lacks a setting a target needs'),
  InvalidProfileSetting: entry('ASG4003', 'profile setting has the wrong form for a target'),
  MissingSchema: entry('ASG4004', 'no inferred schema for a node a target needs'),
  SqlRender: entry('ASG4005', 'SQL cannot be rendered for a target dialect'),
  UnsupportedConnector: entry('ASG4006', 'connector type not supported by a target'),
  OutputNotWritable: entry('ASG4007', 'compile output cannot be written'),
} as const;
