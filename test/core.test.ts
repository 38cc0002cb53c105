import { describe, expect, it } from 'vitest';
import { formatBytes } from '../src/core/bytes.js';
import {
  FETCH_HEADERS_MAX_MS,
  HOSTED_JOB_MAX_MS,
  MAX_DURATION_MS,
  SELF_HOSTED_JOB_MAX_MS,
  formatDuration,
  parseDuration,
} from '../src/core/duration.js';
import { InputError } from '../src/core/errors.js';
import { backoffDelay, retry, sleep, AbortedError } from '../src/core/retry.js';
import { redactUrl, scrubSecrets, urlPassword } from '../src/core/redact.js';
import { quoteIdent, quoteLiteral, quoteQualified } from '../src/core/sql.js';
import { escapeHtml, escapeMarkdownCell } from '../src/core/text.js';
import { deploymentUrl, httpsUrl } from '../src/core/url.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['90', 90_000],
    ['0.5', 500],
    [' 2S ', 2000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text, 'timeout')).toBe(ms);
  });

  it.each(['banana', '-5s', '5 minutes', '10x', '', 's', '1m-2s'])('rejects %j naming the input', (text) => {
    expect(() => parseDuration(text, 'timeout')).toThrow(InputError);
    expect(() => parseDuration(text, 'timeout')).toThrow(/Input 'timeout'/);
  });

  it('says a negative value must not be negative', () => {
    expect(() => parseDuration('-1s', 'interval')).toThrow(/must not be negative/);
  });

  it('rejects zero unless allowed', () => {
    expect(() => parseDuration('0s', 'interval')).toThrow(/greater than zero/);
    expect(parseDuration('0', 'interval', { allowZero: true })).toBe(0);
  });

  it("refuses durations Node cannot time (above 2^31-1 ms a timer fires after 1 ms) and above an input's own bound", () => {
    expect(parseDuration('596h', 'timeout')).toBe(596 * 3_600_000); // 24.8 days: still a valid timer
    expect(() => parseDuration('600h', 'timeout')).toThrow(/Input 'timeout': must be at most 24d 21h, got '600h'/);
    expect(() => parseDuration('25d', 'timeout')).toThrow(/must be at most 24d 21h, got '25d'/);
    expect(() => parseDuration(`${'9'.repeat(400)}s`, 'timeout')).toThrow(/must be at most/);
    expect(() => parseDuration('7h', 'timeout', { max: 6 * 3_600_000 })).toThrow(/must be at most 6h 00m, got '7h'/);
    expect(parseDuration('6h', 'timeout', { max: 6 * 3_600_000 })).toBe(6 * 3_600_000);
    expect(MAX_DURATION_MS).toBe(2 ** 31 - 1);
  });

  it('takes days, and lets a duration that never reaches a timer go past 2^31 ms up to its own bound', () => {
    expect(parseDuration('7d', 'backup-retention')).toBe(7 * 86_400_000);
    expect(parseDuration('1d12h', 'backup-retention')).toBe(36 * 3_600_000);
    expect(parseDuration('1.5d', 'backup-retention')).toBe(36 * 3_600_000);
    const year = 365 * 86_400_000;
    expect(parseDuration('365d', 'backup-retention', { timer: false, max: year })).toBe(year);
    expect(() => parseDuration('366d', 'backup-retention', { timer: false, max: year })).toThrow(
      /Input 'backup-retention': must be at most 365d 00h, got '366d'/,
    );
    expect(() => parseDuration(`${'9'.repeat(400)}d`, 'backup-retention', { timer: false })).toThrow(/must be at most/);
  });

  it('enforces a lower bound too, and keeps zero when zero is allowed', () => {
    expect(() => parseDuration('500ms', 'poll-interval', { min: 1000 })).toThrow(
      /Input 'poll-interval': must be at least 1\.0s, got '500ms'/,
    );
    expect(parseDuration('1s', 'poll-interval', { min: 1000 })).toBe(1000);
    expect(parseDuration('0', 'verify-window', { allowZero: true, min: 1000 })).toBe(0);
  });

  it('states the natural bounds the action.yml descriptions cite', () => {
    expect(HOSTED_JOB_MAX_MS).toBe(6 * 3_600_000); // a job on a GitHub-hosted runner
    expect(SELF_HOSTED_JOB_MAX_MS).toBe(5 * 24 * 3_600_000); // a job on a self-hosted runner
    expect(FETCH_HEADERS_MAX_MS).toBe(300_000); // undici headersTimeout
    expect(SELF_HOSTED_JOB_MAX_MS).toBeLessThan(MAX_DURATION_MS);
  });

  it('quotes a refused value on one line, cut when long', () => {
    expect(() => parseDuration('5s\n::warning::x', 'timeout')).toThrow(
      "Input 'timeout': expected a duration like 250ms, 30s, 5m, 1h, 7d (or a number of seconds), got '5s%0A::warning::x'",
    );
    const long = (() => {
      try {
        parseDuration('x'.repeat(10_000), 'timeout');
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(long).toMatch(/got 'x{120}…' \(10000 characters\)$/);
  });

  it('formats for humans', () => {
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(12_340)).toBe('12.3s');
    expect(formatDuration(245_000)).toBe('4m 05s');
    expect(formatDuration(3_900_000)).toBe('1h 05m');
    expect(formatDuration(120 * 3_600_000)).toBe('120h 00m');
    expect(formatDuration(30 * 86_400_000 + 5 * 3_600_000)).toBe('30d 05h');
  });
});

describe('retry policy', () => {
  it('backs off exponentially with jitter inside [cap/2, cap], capped', () => {
    const policy = { initialDelayMs: 100, maxDelayMs: 1000, factor: 2 };
    expect(backoffDelay(1, policy, () => 0)).toBe(50);
    expect(backoffDelay(1, policy, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, () => 1)).toBe(400);
    expect(backoffDelay(10, policy, () => 1)).toBe(1000);
    expect(backoffDelay(10, policy, () => 0)).toBe(500);
  });

  it('retries retryable errors and returns the first success', async () => {
    let calls = 0;
    const result = await retry(
      () => {
        calls++;
        return calls < 3 ? Promise.reject(new Error('transient')) : Promise.resolve('ok');
      },
      { classify: () => ({ retry: true }), policy: { initialDelayMs: 1, maxDelayMs: 2, factor: 2 } },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('does not retry what the classifier refuses', async () => {
    let calls = 0;
    await expect(
      retry(
        () => {
          calls++;
          return Promise.reject(new Error('fatal'));
        },
        { classify: () => ({ retry: false }) },
      ),
    ).rejects.toThrow('fatal');
    expect(calls).toBe(1);
  });

  it('honours a server-imposed delay larger than the backoff', async () => {
    const delays: number[] = [];
    let calls = 0;
    await retry(() => (++calls === 1 ? Promise.reject(new Error('429')) : Promise.resolve(true)), {
      classify: () => ({ retry: true, delayMs: 30 }),
      policy: { initialDelayMs: 1, maxDelayMs: 1, factor: 1 },
      onRetry: ({ delayMs }) => delays.push(delayMs),
    });
    expect(delays).toEqual([30]);
  });

  it('stops at the deadline and rethrows the last error', async () => {
    let now = 1000;
    let calls = 0;
    await expect(
      retry(
        () => {
          calls++;
          now += 400;
          return Promise.reject(new Error(`fail ${calls}`));
        },
        {
          deadline: 2000,
          now: () => now,
          classify: () => ({ retry: true }),
          policy: { initialDelayMs: 300, maxDelayMs: 300, factor: 1 },
          random: () => 1,
        },
      ),
    ).rejects.toThrow('fail 2');
  });

  it('stops after maxAttempts', async () => {
    let calls = 0;
    await expect(
      retry(
        () => {
          calls++;
          return Promise.reject(new Error('x'));
        },
        { maxAttempts: 4, classify: () => ({ retry: true }), policy: { initialDelayMs: 1, maxDelayMs: 1, factor: 1 } },
      ),
    ).rejects.toThrow('x');
    expect(calls).toBe(4);
  });

  it('sleep is cancellable', async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
  });
});

describe('redaction', () => {
  it('scrubs secrets and their URI-encoded form', () => {
    const secret = 'p@ss/word';
    const text = `auth failed for postgres://u:${encodeURIComponent(secret)}@h/db using ${secret}`;
    const out = scrubSecrets(text, [secret, undefined]);
    expect(out).not.toContain(secret);
    expect(out).not.toContain(encodeURIComponent(secret));
    expect(out).toContain('***');
  });

  it('redacts the password of a URL and extracts it decoded', () => {
    const url = 'postgresql://app:s%3Acret@db.internal:5432/prod';
    expect(redactUrl(url)).toBe('postgresql://app:***@db.internal:5432/prod');
    expect(urlPassword(url)).toBe('s:cret');
    expect(redactUrl('not a url')).toBe('not a url');
  });
});

describe('escapeHtml', () => {
  it('shows the text as typed, in element content and in double-quoted attributes', () => {
    expect(escapeHtml('<script>alert("x")</script> & co')).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co',
    );
  });

  it('escapes & first, so an entity in the text stays visible instead of being decoded', () => {
    expect(escapeHtml('&lt;')).toBe('&amp;lt;');
  });

  it('leaves other text alone', () => {
    expect(escapeHtml("it's 100 % — ünïcode `code`")).toBe("it's 100 % — ünïcode `code`");
  });
});

describe('escapeMarkdownCell', () => {
  it('escapes pipes so they do not split the cell', () => {
    expect(escapeMarkdownCell('a | b')).toBe('a \\| b');
  });

  it.each([
    ['LF', 'one\ntwo', 'one two'],
    ['CRLF', 'one\r\ntwo', 'one two'],
    ['CR', 'one\rtwo', 'one two'],
    ['blank lines and indentation', 'one  \n\n   two', 'one two'],
  ])('folds a line break (%s) and the white space around it into one space', (_, text, want) => {
    expect(escapeMarkdownCell(text)).toBe(want);
  });

  it('keeps white space inside a line', () => {
    expect(escapeMarkdownCell('a  b\tc')).toBe('a  b\tc');
  });
});

describe('SQL quoting', () => {
  it('quotes identifiers with doubled double quotes, keeping case', () => {
    expect(quoteIdent('Users')).toBe('"Users"');
    expect(quoteIdent('we"ird')).toBe('"we""ird"');
    expect(quoteQualified('public', 'T"x')).toBe('"public"."T""x"');
    expect(quoteQualified(undefined, 'items')).toBe('"items"');
  });

  it('quotes literals with doubled single quotes, backslashes kept', () => {
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(quoteLiteral('C:\\dir')).toBe("'C:\\dir'");
  });
});

describe('deploymentUrl', () => {
  it("prefers the service's domain (staticUrl) over the deployment's url", () => {
    expect(deploymentUrl({ staticUrl: 'app.up.railway.app', url: 'https://other.up.railway.app' })).toBe(
      'https://app.up.railway.app',
    );
  });

  it("falls back to the deployment's url, and is undefined when there is neither", () => {
    expect(deploymentUrl({ staticUrl: null, url: 'https://x.up.railway.app' })).toBe('https://x.up.railway.app');
    expect(deploymentUrl({ staticUrl: '  ', url: null })).toBeUndefined();
    expect(deploymentUrl(undefined)).toBeUndefined();
  });

  it('adds https:// to a bare domain and keeps a scheme that is there', () => {
    expect(httpsUrl(' api.example.com ')).toBe('https://api.example.com');
    expect(httpsUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(httpsUrl('HTTPS://A.example')).toBe('HTTPS://A.example');
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 kB'],
    [1536, '1.5 kB'],
    [10 * 1024, '10 kB'],
    [50 * 1024 ** 2, '50 MB'],
    [3.25 * 1024 ** 3, '3.3 GB'],
    [2048 * 1024 ** 4, '2048 TB'],
  ])('%d → %s', (n, want) => {
    expect(formatBytes(n)).toBe(want);
  });
});
