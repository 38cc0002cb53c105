import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { RELEASE_ALIAS, renderReleaseAlias, updatedReadme } from '../scripts/docs.mjs';
import { projectRoot } from './harness/index.js';

describe('README action reference', () => {
  it('matches the action.yml files (run `npm run docs` when this fails)', async () => {
    const { current, next } = await updatedReadme();
    expect(current).toBe(next);
  });
});

describe('actions/release/action.yml (the root action under a path, for $/actions/release)', () => {
  it('is the root action.yml with its bundle paths one level deeper (run `npm run docs` when this fails)', async () => {
    const alias = await readFile(path.join(projectRoot, RELEASE_ALIAS), 'utf8');
    expect(alias).toBe(await renderReleaseAlias());
    expect(alias).toMatch(/^\s+main: \.\.\/\.\.\/dist\/release\/index\.js$/m);
    expect(alias).toMatch(/^\s+post: \.\.\/\.\.\/dist\/release\/index\.js$/m);
  });
});
