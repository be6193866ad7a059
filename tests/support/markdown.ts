/**
 * What the docs tests read from a Markdown file: its heading anchors (as GitHub renders them) and its links.
 *
 * @example
 * anchorsOf('## Outbox age (failing)\n'); // Set { 'outbox-age-failing' }
 */

/** GitHub's heading anchor: lower case, punctuation dropped (not `-` or `_`), each space a `-`. */
function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every heading's anchor (outside code fences); repeats get GitHub's `-1`, `-2` suffixes. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (heading === null) continue;
    const slug = githubSlug(heading[1] as string);
    let anchor = slug;
    for (let n = 1; anchors.has(anchor); n += 1) anchor = `${slug}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

/** The targets of every inline link `[text](target)` and image outside code fences and code spans. */
function linksOf(markdown: string): string[] {
  const links: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced) continue;
    const prose = line.replace(/`[^`]*`/g, '');
    for (const match of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) links.push(match[1] as string);
  }
  return links;
}

export { anchorsOf, githubSlug, linksOf };
