// Parsing on worker threads (src/migrations/analyze/parallel.ts) must not change the analysis: same trees, same
// findings, same order, also for files that fail to parse. Pure: the real parser, no database.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFiles, type FileInput } from '../src/migrations/analyze.js';
import { parseAll, parallelWorkers, parserGlue, PARALLEL_MIN_BYTES } from '../src/migrations/analyze/parallel.js';
import { SourceText } from '../src/migrations/analyze/text.js';
import { CORPUS } from './fixtures/gate-corpus/corpus.js';

function sqlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sqlFiles(p) : e.name.endsWith('.sql') ? [p] : [];
  });
}

const FIXTURES = path.resolve(import.meta.dirname, 'fixtures');
// Every SQL fixture (including broken.sql, unterminated.sql and unicode.sql), the labelled gate corpus one file per
// entry, files that fail to parse, an empty file, and a generated history with NOT VALID / VALIDATE pairs and renames
// across files, so knowledge flowing between files is part of the comparison.
const corpus: FileInput[] = [
  ...sqlFiles(FIXTURES)
    .sort()
    .map((p) => ({ file: path.relative(FIXTURES, p), sql: readFileSync(p, 'utf8') })),
  ...CORPUS.map((e) => ({ file: `corpus/${e.id}.sql`, sql: `${e.sql};\n` })),
  { file: 'broken/syntax.sql', sql: 'CREATE TABLE ok (id int);\nALTER TABLE ok ADD COLUMN;\nDROP TABLE ok;\n' },
  { file: 'broken/quote.sql', sql: "SELECT 'unterminated;\n" },
  { file: 'empty.sql', sql: '  \n' },
  ...Array.from({ length: 40 }, (_, f) => ({
    file: `history/${String(f).padStart(3, '0')}.sql`,
    sql: Array.from({ length: 30 }, (_, s) => {
      const i = f * 30 + s;
      return [
        `CREATE TABLE t_${i} (id int PRIMARY KEY, "naïve ✓" text);`,
        `ALTER TABLE orders ADD CONSTRAINT fk_${i} FOREIGN KEY (u_${i}) REFERENCES users (id) NOT VALID;`,
        `ALTER TABLE orders VALIDATE CONSTRAINT fk_${i - 7};`,
        `ALTER TABLE t_${i - 31} RENAME COLUMN id TO ident; -- rail-actions-ignore: renaming-column kept in sync`,
        `CREATE INDEX idx_${i} ON t_${i - 5} (id);`,
        `UPDATE users SET c_${i} = 'Größe' WHERE id < ${i};`,
      ][i % 6];
    }).join('\n'),
  })),
];

describe('parallel parsing', () => {
  it('finds the parser glue a worker needs when running from source', () => {
    expect(parserGlue()).toMatch(/libpg-query\.(js|cjs)$/);
  });

  it('gives workers only large inputs on machines with 4+ CPUs, never more than one per other CPU', () => {
    const big = Array.from({ length: 10 }, () => 'x'.repeat(PARALLEL_MIN_BYTES / 4));
    expect(parallelWorkers(['SELECT 1;', 'SELECT 2;'], 8)).toBe(0);
    expect(parallelWorkers(big.slice(0, 3), 8)).toBe(0); // 3/4 of the threshold
    expect(parallelWorkers(big, 2)).toBe(0);
    expect(parallelWorkers(big, 4)).toBe(3);
    expect(parallelWorkers(big, 16)).toBe(3);
    expect(
      parallelWorkers(
        big.slice(0, 2).map((s) => s + s + s),
        8,
      ),
    ).toBe(1);
  });

  it('workers build exactly the trees the calling thread builds, and leave failing files to it', async () => {
    const sqls = corpus.map((f) => f.sql);
    const serial = await parseAll(sqls, 0);
    const workers = await parseAll(sqls, 2, { mainThreadParses: false });
    expect(workers).toEqual(serial);
    expect(serial.filter((t) => t !== undefined).length).toBeGreaterThan(100);
    expect(serial[corpus.findIndex((f) => f.file === 'broken/syntax.sql')]).toBeUndefined();
  });

  it('returns the same analysis as the serial path on a multi-file corpus', async () => {
    const serial = await analyzeFiles(corpus, { parseThreads: 0, runnerSetsTimeouts: false });
    for (const threads of [1, 3]) {
      expect(await analyzeFiles(corpus, { parseThreads: threads, runnerSetsTimeouts: false })).toEqual(serial);
    }
    const findings = serial.flatMap((f) => f.statements.flatMap((s) => s.findings.map((x) => x.rule)));
    expect(findings).toEqual(
      expect.arrayContaining([
        'unparseable-sql',
        'constraint-missing-not-valid',
        'require-concurrent-index-creation',
        'unused-ignore',
      ]),
    );
  });
});

describe('SourceText on multi-byte text', () => {
  it('slices and positions like Buffer decoding, in any lookup order', () => {
    const text = 'a ✓\nbé 🚀 c\n日本語 x;\n-- 𝄞 end';
    const src = new SourceText(text);
    const bytes = Buffer.from(text);
    const boundaries = [...Array(bytes.length + 1).keys()].filter(
      (i) => i === bytes.length || (bytes[i]! & 0xc0) !== 0x80,
    );
    const order = [...boundaries].reverse().concat(boundaries);
    for (const s of order) {
      for (const e of [s, s + 1, s + 4, bytes.length, s - 1])
        expect(src.slice(s, e)).toBe(
          bytes.subarray(Math.max(0, s), Math.max(s, Math.min(e, bytes.length))).toString('utf8'),
        );
    }
    // A cut inside a character decodes as Buffer does.
    expect(src.slice(3, 7)).toBe(bytes.subarray(3, 7).toString('utf8'));
    const pos = (b: number) => {
      const before = bytes.subarray(0, b).toString('utf8');
      const line = before.split('\n').length;
      return { line, column: [...(before.split('\n').pop() ?? '')].length + 1 };
    };
    for (const b of order) expect(src.positionOfByte(b)).toEqual(pos(b));
  });

  it('keeps lone surrogates on the Buffer path', () => {
    const text = 'x \ud800 y é';
    const src = new SourceText(text);
    expect(src.slice(0, Buffer.byteLength(text))).toBe(Buffer.from(text).toString('utf8'));
  });
});
