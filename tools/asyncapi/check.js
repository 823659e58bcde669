#!/usr/bin/env node
// Parse an AsyncAPI document with the reference parser (the one AsyncAPI Studio and the
// generator use) and fail when it reports any error, so a downstream team can load ours.
//
// Usage: node check.js [path]   (default: schema/asyncapi.yaml of this repository)
// Prints every diagnostic as `severity code path: message`; exits 1 on any error, 2 when the
// document can't be read at all, 0 otherwise (warnings and hints are printed, not fatal).
'use strict';

const path = require('node:path');
const { Parser, fromFile, DiagnosticSeverity } = require('@asyncapi/parser');

const SEVERITY = {
  [DiagnosticSeverity.Error]: 'error',
  [DiagnosticSeverity.Warning]: 'warning',
  [DiagnosticSeverity.Information]: 'info',
  [DiagnosticSeverity.Hint]: 'hint',
};

function describe(diagnostic) {
  const where = diagnostic.path && diagnostic.path.length ? diagnostic.path.join('/') : '(document)';
  const severity = SEVERITY[diagnostic.severity] || String(diagnostic.severity);
  return `${severity} ${diagnostic.code} ${where}: ${diagnostic.message}`;
}

async function main() {
  const target = path.resolve(process.argv[2] || path.join(__dirname, '..', '..', 'schema', 'asyncapi.yaml'));
  const { document, diagnostics } = await fromFile(new Parser(), target).parse();
  for (const diagnostic of diagnostics) {
    console.log(describe(diagnostic));
  }
  const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error).length;
  console.log(`${target}: ${errors} error(s), ${diagnostics.length - errors} other diagnostic(s)`);
  return errors === 0 && document !== undefined ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`cannot parse: ${error && error.stack ? error.stack : error}`);
    process.exit(2);
  },
);
