/**
 * Node's `buffer` module as the bundles' dependencies get it (`scripts/build.mjs`, `quietBuffer`): the Tablestore SDK,
 * its protobufjs and int64-buffer still call the deprecated `Buffer()` constructor. Node warns (DEP0005) only for
 * calls from outside node_modules, which every call from a bundle is, so each cold start printed the warning to FC's
 * logs. Here the constructor's forms become the calls Node documents as their replacements (a size: `Buffer.alloc`,
 * zero-filled as `new Buffer(size)` is since Node 8; anything else: `Buffer.from`), and every static and `instanceof`
 * is Node's own.
 */
const buffer = require('node:buffer');

const NodeBuffer = buffer.Buffer;
function Buffer(value, encodingOrOffset, length) {
  return typeof value === 'number' ? NodeBuffer.alloc(value) : NodeBuffer.from(value, encodingOrOffset, length);
}
Object.setPrototypeOf(Buffer, NodeBuffer);
Buffer.prototype = NodeBuffer.prototype;

module.exports = { ...buffer, Buffer };
