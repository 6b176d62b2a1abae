// Lets a child Node process run this package's TypeScript sources directly
// (the same sources jest runs), compiling each .ts file with @swc/core on
// require, and resolving @tidemark/* workspace packages to their src/ like
// the jest preset does. Used by crash tests that kill -9 a real engine process.
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

const packagesDir = path.resolve(__dirname, '..', '..', '..');
const origResolve = Module._resolveFilename;
Module._resolveFilename = function resolve(request, parent, ...rest) {
  const m = /^@tidemark\/([a-z-]+)$/.exec(request);
  if (m) return origResolve.call(this, path.join(packagesDir, m[1], 'src', 'index.ts'), parent, ...rest);
  return origResolve.call(this, request, parent, ...rest);
};
require.extensions['.ts'] = function compile(module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
