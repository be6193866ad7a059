/**
 * The README stays a five-minute read that still runs: at most ~150 lines, the two quick-start commands exactly, and
 * every link in it (and in docs/) resolving to a file of the repository, with the heading its anchor names.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorsOf, linksOf } from '../../support/markdown';

const ROOT = join(__dirname, '..', '..', '..');
const README = join(ROOT, 'README.md');
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .map((name) => join(ROOT, 'docs', name));
const read = (file: string) => readFileSync(file, 'utf8');

/** Each link of a Markdown file as [file it is in, target]. */
const linksIn = (file: string) => linksOf(read(file)).map((target) => [relative(ROOT, file), target] as const);

describe('README.md', () => {
  const readme = read(README);

  it('is read in five minutes: at most 150 lines', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(150);
  });

  it('keeps the two commands of the quick start', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toMatch(/^npm test {2,}#/m);
  });

  it('links every document in docs/', () => {
    for (const doc of DOCS) expect(linksOf(readme)).toContain(relative(ROOT, doc));
  });

  it.each(linksIn(README))('%s: %s is a file of the repository', (_file, target) => {
    // Assess
    expect(target, 'the README links only to files of the repository').not.toMatch(/^[a-z]+:/i);
  });
});

describe('links in README.md and docs/', () => {
  const relativeLinks = [README, ...DOCS].flatMap(linksIn).filter(([, target]) => !/^[a-z]+:/i.test(target));

  it.each(relativeLinks)('%s: %s resolves, with its anchor', (from, target) => {
    // Assess
    const [path = '', anchor] = target.split('#');
    const file = join(ROOT, from);
    const targetFile = path === '' ? file : resolve(dirname(file), path);
    expect(existsSync(targetFile), `${target} → ${relative(ROOT, targetFile)} does not exist`).toBe(true);
    if (anchor !== undefined) expect(anchorsOf(read(targetFile)).has(anchor), `no heading #${anchor}`).toBe(true);
  });
});
