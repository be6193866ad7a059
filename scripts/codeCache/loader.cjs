// dist/<function>/index.js, as FC requires it: runs app.js (the function's bundle) with the V8 code cache the build
// made for it (app.cache), so a cold start deserializes the compiled bundle instead of parsing and compiling 400 KiB.
// V8 refuses a cache made by another Node version, with other V8 flags (`--max-old-space-size` too) or for another
// app.js: the bundle then compiles as it would without one, and this one line says so, once per instance.
'use strict';
const { readFileSync } = require('node:fs');
const { basename, join } = require('node:path');
const { Script } = require('node:vm');

const file = join(__dirname, 'app.js');
// Node's CommonJS wrapper, on a line of its own so the bundle keeps its line numbers (lineOffset -1); the build
// (scripts/codeCache/produce.ts) compiles exactly this text to make the cache.
const wrapped = `(function (exports, require, module, __filename, __dirname) {\n${readFileSync(file, 'utf8')}\n})`;
let cachedData;
try {
  cachedData = readFileSync(join(__dirname, 'app.cache'));
} catch {
  cachedData = undefined;
}
const script = new Script(wrapped, { filename: file, lineOffset: -1, cachedData });
if (cachedData !== undefined && script.cachedDataRejected) {
  const line = {
    level: 'INFO',
    time: new Date().toISOString(),
    service: process.env.FC_FUNCTION_NAME || basename(__dirname),
    message: 'V8 code cache rejected (built by another Node version or with other V8 flags): the bundle was compiled',
    node: process.version,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
script.runInThisContext()(module.exports, require, module, file, __dirname);
