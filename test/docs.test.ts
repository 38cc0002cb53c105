import { describe, expect, it } from 'vitest';
import { updatedReadme } from '../scripts/docs.mjs';

describe('README action reference', () => {
  it('matches the action.yml files (run `npm run docs` when this fails)', async () => {
    const { current, next } = await updatedReadme();
    expect(current).toBe(next);
  });
});
