// The BUNDLED health-check action (dist/health-check) run like the GitHub runner runs it, against real local servers.
import { afterEach, describe, expect, it } from 'vitest';
import { runAction, startAction, type ActionResult } from './harness/index.js';
import { closeServers, serveScript, type Script } from './helpers/http.js';

afterEach(closeServers);

const serve = (script: Script) => serveScript(script, { defaultBody: {} });

const fast = { interval: '50ms', 'max-interval': '200ms' };
const errors = (r: ActionResult) => r.annotations.filter((a) => a.level === 'error').map((a) => a.message);

describe('health-check action (bundled)', () => {
  it('is healthy after the fresh service stops answering 502, with outputs and a summary', async () => {
    const { url } = await serve((n) =>
      n <= 2 ? { status: 502 } : { body: { status: 'ok', checks: { db: 'ok' }, deploymentId: 'dep-2' } },
    );
    const r = await runAction({
      action: 'health-check',
      inputs: { url, ...fast, 'expect-json': 'status=ok\nchecks.db=ok', 'expect-version': 'dep-2' },
    });
    expect(errors(r)).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(r.outputs.healthy).toBe('true');
    expect(r.outputs.attempts).toBe('5');
    expect(r.outputs['last-status']).toBe('200');
    expect(r.outputs['time-to-healthy-ms']).toMatch(/^\d+$/);
    expect(r.outputs['p95-latency-ms']).toMatch(/^\d+$/);
    expect(r.summary).toContain('Health check: ✅ Healthy');
    expect(r.summary).toContain('not serving yet: HTTP 502');
    expect(r.logLines.some((l) => l.startsWith('#1 ✗ 502'))).toBe(true);
    expect(r.logLines.some((l) => l.includes('3 in a row 50ms apart, timeout 5m 00s'))).toBe(true);
  });

  it('fails with exit 1 and the reason when the old version keeps answering', async () => {
    const { url } = await serve(() => ({ body: { status: 'ok', version: 'v1' } }));
    const r = await runAction({
      action: 'health-check',
      inputs: { url, ...fast, 'expect-version': 'v2', timeout: '1s' },
    });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.healthy).toBe('false');
    expect(r.outputs['time-to-healthy-ms']).toBe('');
    expect(r.outputs['last-status']).toBe('200');
    expect(errors(r).join('\n')).toMatch(
      /is not healthy: not healthy within 1\.0s .*old version answering: saw version=v1 \(expected v2\)/,
    );
    expect(r.summary).toContain('❌ Not healthy');
  });

  it('a flapping endpoint never reaches the streak: not healthy, with how far it got', async () => {
    // Every third answer fails, so 3 healthy answers in a row never happen.
    const { url } = await serve((n) =>
      n % 3 === 0 ? { status: 503, body: { status: 'error' } } : { body: { status: 'ok' } },
    );
    const r = await runAction({ action: 'health-check', inputs: { url, ...fast, timeout: '1500ms' } });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.healthy).toBe('false');
    expect(Number(r.outputs.attempts)).toBeGreaterThanOrEqual(3);
    expect(errors(r).join('\n')).toMatch(
      /not healthy within 1\.5s \(\d+ attempt\(s\)(, [12] of 3 healthy in a row)?\); last: /,
    );
    expect(r.summary).toMatch(/<td>503<\/td>[\s\S]*HTTP 503, expected 200/);
  });

  it('a degraded service fails with the check that is failing in the error, the reason output and the summary', async () => {
    const { url } = await serve(() => ({
      status: 503,
      body: { status: 'degraded', checks: { redis: 'down', db: 'ok' } },
    }));
    const r = await runAction({ action: 'health-check', inputs: { url, ...fast, timeout: '800ms' } });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.reason).toMatch(/; last: HTTP 503: checks failing: redis=down$/);
    expect(errors(r).join('\n')).toMatch(
      /is not healthy: not healthy within 800ms .*last: HTTP 503: checks failing: redis=down/,
    );
    expect(r.summary).toContain('HTTP 503: checks failing: redis=down');
  });

  it('bounds the attempts table in the summary', async () => {
    const { url } = await serve(() => ({ status: 500 }));
    const r = await runAction({
      action: 'health-check',
      inputs: { url, interval: '10ms', 'max-interval': '10ms', timeout: '1500ms' },
    });
    expect(r.exitCode).toBe(1);
    expect(Number(r.outputs.attempts)).toBeGreaterThan(20);
    expect(r.summary).toContain(`Last 20 of ${r.outputs.attempts} attempts`);
    expect(r.summary.match(/<td>❌<\/td>/g)).toHaveLength(20);
  });

  it('never lets a header secret reach the log, outputs or summary — even when the server echoes it', async () => {
    const token = 'tok_9f8e7d6c5b4a39281706';
    const apiKey = 'key-0a1b2c3d4e5f';
    // Worst case: a misbehaving endpoint reflects the request headers into its (failing) body.
    const { url } = await serve((_n, req) => ({
      status: 500,
      body: { auth: req.headers.authorization, key: req.headers['x-api-key'], all: req.headers },
    }));
    const r = await runAction({
      action: 'health-check',
      inputs: {
        url,
        ...fast,
        timeout: '700ms',
        headers: `Authorization: Bearer ${token}\nX-Api-Key: ${apiKey}\nAccept: application/json`,
      },
    });
    expect(r.exitCode).toBe(1);
    expect(r.masked).toEqual(expect.arrayContaining([`Bearer ${token}`, token, apiKey]));
    expect(r.allText).not.toContain(token);
    expect(r.allText).not.toContain(apiKey);
    expect(r.summary).toContain('***');
  });

  it('masks credentials given in the URL', async () => {
    const { url } = await serve(() => ({ status: 500 }));
    const withCreds = url.replace('http://', 'http://deployer:pw-s3cret-77@') + '?token=qs-secret-123';
    const r = await runAction({ action: 'health-check', inputs: { url: withCreds, ...fast, timeout: '500ms' } });
    expect(r.exitCode).toBe(1);
    expect(r.allText).not.toContain('pw-s3cret-77');
    expect(r.allText).not.toContain('qs-secret-123');
  });

  it.each([
    ['url', { url: 'not a url' }, /Input 'url': expected an absolute URL/],
    ['url', { url: 'ftp://example.com/health' }, /Input 'url'/],
    ['timeout', { timeout: 'banana' }, /Input 'timeout': expected a duration .* got 'banana'/],
    ['interval', { interval: '-1s' }, /Input 'interval': .*must not be negative/],
    [
      'max-interval',
      { interval: '5s', 'max-interval': '1s' },
      /Input 'max-interval': must not be shorter than interval/,
    ],
    ['consecutive-successes', { 'consecutive-successes': '0' }, /Input 'consecutive-successes': must be at least 1/],
    ['expect-json', { 'expect-json': 'status' }, /Input 'expect-json': expected conditions like status=ok/],
    ['expect-status', { 'expect-status': 'ok' }, /Input 'expect-status'/],
    ['headers', { headers: 'Bearer abcdef-not-a-header' }, /Input 'headers': line 1 is not a 'Name: value' header/],
    ['max-latency', { 'max-latency': 'fast' }, /Input 'max-latency'/],
  ])('bad %s → one clear error naming it, exit 1, no request sent', async (_name, bad, message) => {
    const { url, requests } = await serve(() => ({}));
    const r = await runAction({ action: 'health-check', inputs: { url, ...bad } });
    expect(r.exitCode).toBe(1);
    const errs = errors(r);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(message);
    expect(r.allText).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.allText).not.toContain('abcdef-not-a-header');
    expect(requests()).toBe(0);
  });

  it('a missing url names the input', async () => {
    const r = await runAction({ action: 'health-check', inputs: {} });
    expect(r.exitCode).toBe(1);
    expect(errors(r).join('\n')).toMatch(/Input 'url': is required/);
  });

  it('stops on SIGTERM mid-wait with a defined, reported state', async () => {
    const { url } = await serve(() => ({ status: 503 }));
    const running = startAction({ action: 'health-check', inputs: { url, ...fast } });
    await running.waitForOutput(/#3 /, 60_000);
    running.kill('SIGTERM');
    const r = await running.result;
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(1);
    expect(r.outputs.healthy).toBe('false');
    expect(r.summary).toContain('⏹️ Cancelled');
    expect(errors(r).join('\n')).toMatch(/cancelled \(cancelled by SIGTERM\)/);
  });
});
