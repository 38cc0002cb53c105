// The release family's decisions (src/release/policies.ts) on plain data: release outcome, rollback target,
// post-step cleanup and expect-version. Both front ends reach them through the use cases, so these are the rules.
import { describe, expect, it } from 'vitest';
import type { DeploymentSummary } from '../src/railway/deployments.js';
import {
  chooseRollbackTarget,
  cleanupAction,
  cleanupFirstStep,
  cleanupNeeded,
  decideAfterRollback,
  decideAfterVerify,
  finalResult,
  releaseHealthy,
  releaseNeedsHuman,
  resolveExpectVersion,
} from '../src/release/policies.js';
import type { Release, ServiceRelease } from '../src/release/release.js';
import { verifySpecFor, verifySpecForRestored, type VerifyRules } from '../src/release/verify-rules.js';

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
const dep = (
  id: string,
  status: string,
  minute: number,
  extra: Partial<DeploymentSummary> = {},
): DeploymentSummary => ({
  id,
  status,
  createdAt: at(minute),
  canRollback: true,
  canRedeploy: true,
  url: null,
  staticUrl: null,
  ...extra,
});
const commit = (sha: string) => ({ meta: { commitHash: sha } });

function svc(name: string, o: Partial<ServiceRelease> = {}): ServiceRelease {
  return {
    service: { id: `${name}-id`, name },
    scope: { projectId: 'p', environmentId: 'e', serviceId: `${name}-id` },
    status: '',
    outcome: 'not-started',
    message: '',
    history: [],
    ...o,
  };
}
const release = (...services: ServiceRelease[]): Release => ({
  project: { id: 'p', name: 'shop' },
  environment: { id: 'e', name: 'production' },
  source: 'commit',
  startedAt: 0,
  services,
  events: [],
});
const live = (name: string, o: Partial<ServiceRelease> = {}) =>
  svc(name, {
    deploymentId: `${name}-new`,
    previousDeploymentId: `${name}-old`,
    outcome: 'success',
    status: 'SUCCESS',
    history: [{ status: 'SUCCESS', at: 1 }],
    ...o,
  });
const unhealthy = {
  rule: 'http' as const,
  windowMs: 0,
  startedAt: 0,
  finishedAt: 1,
  healthy: false,
  reason: 'HTTP 503',
  attempts: 3,
};
const healthy = { ...unhealthy, healthy: true, reason: 'ok' };
const ctx = { cancelled: false, rollbackOnFailure: true, risks: [], force: false };
const destructive = [
  { risk: 'destructive' as const, where: 'migrations/002.sql:3', detail: 'ALTER TABLE users DROP COLUMN email' },
];

describe('release outcome', () => {
  it('deployed when every service went live and passed its rule (an unchanged watch-paths skip counts)', () => {
    const r = release(
      live('api', { verification: healthy }),
      svc('worker', { outcome: 'skipped', skipReason: 'watch-paths' }),
    );
    expect(decideAfterVerify(r, ctx)).toEqual({ result: 'deployed', notes: [] });
  });

  it('a failed verification of a live service → roll back', () => {
    expect(decideAfterVerify(release(live('api', { verification: unhealthy })), ctx)).toEqual({ rollBack: true });
  });

  it('cancelled beats everything, superseded is left alone, nothing live is failed without a rollback', () => {
    expect(
      decideAfterVerify(release(live('api', { verification: unhealthy })), { ...ctx, cancelled: true }),
    ).toMatchObject({ result: 'cancelled' });
    expect(decideAfterVerify(release(live('api', { outcome: 'superseded', supersededBy: 'x' })), ctx)).toMatchObject({
      result: 'superseded',
      notes: [expect.stringContaining('api → x')],
    });
    expect(
      decideAfterVerify(release(svc('api', { deploymentId: 'n', outcome: 'failed', status: 'FAILED' })), ctx),
    ).toMatchObject({ result: 'failed', notes: [expect.stringContaining('nothing needed rolling back')] });
  });

  it('a crashed service is rolled back even if it never showed SUCCESS (its previous deployment may be gone)', () => {
    expect(
      decideAfterVerify(release(svc('api', { deploymentId: 'n', outcome: 'crashed', status: 'CRASHED' })), ctx),
    ).toEqual({ rollBack: true });
  });

  it('rollback off → failed, named as the front end names the switch', () => {
    const r = release(live('api', { verification: unhealthy }));
    expect(decideAfterVerify(r, { ...ctx, rollbackOnFailure: false })).toMatchObject({
      result: 'failed',
      notes: ['rollback: false — the failed release was left in place.'],
    });
    expect(
      decideAfterVerify(r, { ...ctx, rollbackOnFailure: false, names: { rollback: 'no --rollback-on-failure' } }),
    ).toMatchObject({ notes: ['no --rollback-on-failure — the failed release was left in place.'] });
  });

  it('never rolls back across a breaking/destructive migration unless forced', () => {
    const r = release(live('api', { verification: unhealthy }));
    const held = decideAfterVerify(r, { ...ctx, risks: destructive, names: { force: '--force' } });
    expect(held).toMatchObject({
      result: 'needs-human',
      notes: [expect.stringMatching(/destructive migrations\/002\.sql:3 .*Set --force to override/)],
    });
    expect(decideAfterVerify(r, { ...ctx, risks: destructive, force: true })).toEqual({ rollBack: true });
  });

  it('after the rollback: rolled-back only when every restored service passed its rule', () => {
    const ok = { targetId: 't', ok: true, status: 'SUCCESS', message: '', startedAt: 0, finishedAt: 1 };
    expect(
      decideAfterRollback(release(live('api', { rollback: { ...ok, verification: healthy } })), { cancelled: false })
        .result,
    ).toBe('rolled-back');
    expect(
      decideAfterRollback(release(live('api', { rollback: { ...ok, verification: unhealthy } })), { cancelled: false })
        .result,
    ).toBe('rollback-failed');
    expect(
      decideAfterRollback(release(live('api', { rollback: { ...ok, ok: false } })), { cancelled: false }).result,
    ).toBe('rollback-failed');
    expect(decideAfterRollback(release(live('api')), { cancelled: false }).result).toBe('failed');
    expect(decideAfterRollback(release(live('api', { rollback: ok })), { cancelled: true }).result).toBe('cancelled');
  });

  it('what Railway runs decides needs-human; a cancelled or failed rollback keeps its word', () => {
    const unreadable = live('api', {
      verification: healthy,
      production: { pending: [], readAt: 0, error: 'HTTP 503' },
    });
    expect(finalResult('deployed', release(unreadable))).toBe('needs-human');
    expect(finalResult('cancelled', release(unreadable))).toBe('cancelled');
    expect(finalResult('rollback-failed', release(unreadable))).toBe('rollback-failed');
    expect(finalResult('deployed', release(live('api', { verification: healthy })))).toBe('deployed');
    expect(releaseNeedsHuman('deployed', release(live('api', { outcome: 'waiting' })))).toBe(true);
    expect(releaseNeedsHuman('deployed', release(live('api', { verification: healthy })))).toBe(false);
  });

  it('healthy output: empty when nothing was verified', () => {
    expect(releaseHealthy('deployed', release(live('api')), false)).toBe('');
    expect(releaseHealthy('deployed', release(live('api', { verification: healthy })), true)).toBe('true');
    expect(releaseHealthy('rolled-back', release(live('api', { verification: unhealthy })), true)).toBe('false');
  });
});

describe('rollback target', () => {
  // old (v1, commit a) ← mid (v2, commit b) ← serving (v3, commit c)
  const history = [
    dep('old', 'REMOVED', 1, commit('aaaaaaa1')),
    dep('mid', 'REMOVED', 2, commit('bbbbbbb2')),
    dep('serving', 'SUCCESS', 3, commit('ccccccc3')),
  ];

  it('the newest earlier deployment Railway can roll back to, never what serves', () => {
    expect(chooseRollbackTarget(history)).toEqual({ targetId: 'mid', from: 'history' });
  });

  it('prefers another commit than the one being undone; the same commit only when nothing else is left (variables changed)', () => {
    const sameCommit = [
      dep('old', 'REMOVED', 1, commit('aaaaaaa1')),
      dep('vars', 'REMOVED', 2, commit('ccccccc3')),
      dep('serving', 'SUCCESS', 3, commit('ccccccc3')),
    ];
    expect(chooseRollbackTarget(sameCommit)?.targetId).toBe('old');
    expect(chooseRollbackTarget(sameCommit.slice(1))?.targetId).toBe('vars');
  });

  it('skips deployments Railway cannot roll back to, failed ones and newer ones; undefined when nothing is left', () => {
    const list = [
      dep('gone', 'REMOVED', 1, { canRollback: false }),
      dep('bad', 'FAILED', 2),
      dep('serving', 'SUCCESS', 3),
      dep('building', 'BUILDING', 4),
    ];
    expect(chooseRollbackTarget(list)).toBeUndefined();
  });

  it('the recorded target is preferred; a superseded or replaced recorded release is not rolled back (force overrides a replacement)', () => {
    expect(
      chooseRollbackTarget(history, { recorded: { service: 'api', deploymentId: 'serving', rollbackTargetId: 'old' } }),
    ).toEqual({ targetId: 'old', from: 'recorded' });
    expect(
      chooseRollbackTarget(history, { recorded: { deploymentId: 'serving', outcome: 'superseded', supersededBy: 'x' } })
        ?.skip,
    ).toMatch(/superseded by x/);
    const replaced = { deploymentId: 'mid', rollbackTargetId: 'old' };
    expect(chooseRollbackTarget(history, { recorded: replaced })?.skip).toMatch(
      /a newer deployment serving replaced the recorded one \(mid\)/,
    );
    expect(chooseRollbackTarget(history, { recorded: replaced, force: true })).toEqual({
      targetId: 'old',
      from: 'recorded',
    });
    expect(
      chooseRollbackTarget(history, { recorded: { deploymentId: 'serving', rollbackTargetId: 'serving' } })?.skip,
    ).toMatch(/already serving/);
  });

  it('an explicit id wins, and is skipped when it already serves', () => {
    expect(chooseRollbackTarget(history, { explicit: 'old' })).toEqual({ targetId: 'old', from: 'explicit' });
    expect(chooseRollbackTarget(history, { explicit: 'serving' })).toMatchObject({
      skip: 'serving is already serving; nothing to roll back',
    });
  });
});

describe('post-step cleanup', () => {
  const s = { service: 'api', serviceId: 'api-id', projectId: 'p', environmentId: 'e' };
  it('runs only when the main step left something on its way', () => {
    expect(cleanupNeeded('done', [{ ...s, deploymentId: 'd' }])).toBe(false);
    expect(cleanupNeeded('', [{ ...s, deploymentId: 'd' }])).toBe(false);
    expect(cleanupNeeded('deploying', [s])).toBe(false);
    expect(cleanupNeeded('verifying', [{ ...s, deploymentId: 'd' }])).toBe(true);
    expect(cleanupNeeded('rolling-back', [{ ...s, rollbackDeploymentId: 'r' }])).toBe(true);
    // A deploy request was sent and not answered: it may have landed.
    expect(cleanupNeeded('deploying', [{ ...s, requested: { knownDeploymentIds: ['old'] } }])).toBe(true);
  });

  it('finishes a rollback on its way first, then looks at the release deployment', () => {
    expect(cleanupFirstStep({ ...s, deploymentId: 'd', rollbackDeploymentId: 'r' })).toEqual({
      step: 'wait-rollback',
      deploymentId: 'r',
    });
    expect(cleanupFirstStep({ ...s, deploymentId: 'd' })).toEqual({ step: 'read-deployment', deploymentId: 'd' });
    expect(cleanupFirstStep(s)).toEqual({ step: 'nothing-started' });
    const requested = { knownDeploymentIds: ['old'], commitSha: 'c'.repeat(40) };
    expect(cleanupFirstStep({ ...s, requested })).toEqual({ step: 'find-requested', requested });
    // Saved state without the list of what existed before: nothing can be told apart as the request's.
    const malformed = { commitSha: 'c'.repeat(40) } as unknown as typeof requested;
    expect(cleanupFirstStep({ ...s, requested: malformed })).toEqual({ step: 'nothing-started' });
    // The id, once known, is what is looked at.
    expect(cleanupFirstStep({ ...s, requested, deploymentId: 'd' })).toEqual({
      step: 'read-deployment',
      deploymentId: 'd',
    });
  });

  it.each([
    ['BUILDING', true, 'cancel'],
    ['QUEUED', false, 'cancel'],
    ['DEPLOYING', true, 'wait-then-roll-back'],
    ['DEPLOYING', false, 'leave'],
    ['WAITING', true, 'leave'],
    ['SUCCESS', true, 'roll-back'],
    ['SUCCESS', false, 'none'],
    ['FAILED', true, 'none'],
  ])('%s with rollbackLive=%s → %s', (status, rollbackLive, action) => {
    expect(cleanupAction(status, rollbackLive).action).toBe(action);
  });
});

describe('expect-version', () => {
  it('deployment-id, commit, none and a literal for the deployment being verified', () => {
    expect(resolveExpectVersion('deployment-id', { deploymentId: 'd1' })).toEqual({ value: 'd1' });
    expect(resolveExpectVersion('commit', { deploymentId: 'd1', commitSha: 'abc1234' })).toEqual({ value: 'abc1234' });
    expect(resolveExpectVersion('commit', { deploymentId: 'd1' })).toEqual({});
    expect(resolveExpectVersion('none', { deploymentId: 'd1' })).toEqual({});
    expect(resolveExpectVersion('v2', { deploymentId: 'd1' })).toEqual({ value: 'v2' });
  });

  it('a restored deployment is checked against its own identity, never the literal of the undone release', () => {
    expect(resolveExpectVersion('deployment-id', { deploymentId: 'rb1', restored: true })).toEqual({ value: 'rb1' });
    const literal = resolveExpectVersion('v2', { deploymentId: 'rb1', restored: true });
    expect(literal.value).toBeUndefined();
    expect(literal.note).toMatch(/'v2' names the release that was rolled back/);
    const commitUnknown = resolveExpectVersion('commit', { deploymentId: 'rb1', restored: true });
    expect(commitUnknown.value).toBeUndefined();
    expect(commitUnknown.note).toMatch(/commit is not known/);
  });

  it('the literal "commit" is never taken literally (the CLI once did)', () => {
    const rules: VerifyRules = {
      urls: { named: new Map(), single: 'https://api.example.com/health' },
      healthPath: '/health',
      expectVersion: 'commit',
      windowMs: 0,
      http: {} as VerifyRules['http'],
    };
    const api = { service: { id: 'a', name: 'api' } };
    expect(verifySpecFor(rules, api, 'd1', 'abc1234')).toMatchObject({ expectVersion: 'abc1234' });
    expect(verifySpecFor(rules, api, 'd1')).not.toHaveProperty('expectVersion');
    expect(verifySpecForRestored({ ...rules, expectVersion: 'v2' }, api, 'rb1')).not.toHaveProperty('expectVersion');
  });
});
