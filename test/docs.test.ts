import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without type declarations
import { updatedReadme } from '../scripts/docs.mjs';

describe('README action reference', () => {
  it('matches the action.yml files (run `npm run docs` when this fails)', async () => {
    const { current, next } = (await updatedReadme()) as { current: string; next: string };
    expect(current).toBe(next);
  });
});
