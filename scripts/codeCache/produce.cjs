// node scripts/codeCache/produce.cjs dist/<function>: writes app.cache, the V8 code cache of app.js as
// dist/<function>/index.js (loader.cjs) compiles it. The bundle runs its module scope once first, so the functions its
// init compiles are in the cache too; run it with an environment whose init sends nothing (scripts/build.mjs).
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { join, resolve } = require('node:path');
const { Script } = require('node:vm');

const dir = resolve(process.argv[2]);
const file = join(dir, 'app.js');
const wrapped = `(function (exports, require, module, __filename, __dirname) {\n${readFileSync(file, 'utf8')}\n})`;
const script = new Script(wrapped, { filename: file, lineOffset: -1 });
const module_ = { exports: {} };
script.runInThisContext()(module_.exports, createRequire(file), module_, file, dir);
writeFileSync(join(dir, 'app.cache'), script.createCachedData());
process.exit(0);
