// Lets a child process run this package's TypeScript sources the way jest
// does (swc transform, @tidemark/* resolved to sibling src/), so crash tests
// can SIGKILL a real worker process without needing a build first.
//   node -r ./test/support/register.js test/support/some-child.ts
const path = require('node:path');
const Module = require('node:module');
const { addHook } = require('pirates');
const swc = require('@swc/core');

const packagesDir = path.resolve(__dirname, '..', '..', '..');
const originalResolve = Module._resolveFilename;
Module._resolveFilename = function resolve(request, parent, isMain, options) {
  const m = /^@tidemark\/([a-z-]+)$/.exec(request);
  if (m) return originalResolve.call(this, path.join(packagesDir, m[1], 'src', 'index.ts'), parent, isMain, options);
  return originalResolve.call(this, request, parent, isMain, options);
};

addHook(
  (code, filename) =>
    swc.transformSync(code, {
      filename,
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
      sourceMaps: 'inline',
    }).code,
  { exts: ['.ts'], ignoreNodeModules: true },
);
