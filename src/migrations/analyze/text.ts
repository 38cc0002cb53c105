// Position bookkeeping for SQL files. libpg-query reports statement and node locations as UTF-8 BYTE offsets and parse
// errors as CHARACTER (code point) positions; editors and GitHub annotations want 1-based line and character column.

export interface Position {
  line: number;
  column: number;
}

export class SourceText {
  readonly text: string;
  readonly bytes: Buffer;
  /** Byte offset at which each line starts (line 1 at index 0). */
  private readonly lineStarts: number[];
  /** Every character is one byte: byte offsets are string indexes (no Buffer decoding needed). */
  private readonly ascii: boolean;

  constructor(text: string) {
    this.text = text;
    this.bytes = Buffer.from(text, 'utf8');
    this.ascii = this.bytes.length === text.length;
    const starts = [0];
    for (let i = this.bytes.indexOf(0x0a); i !== -1; i = this.bytes.indexOf(0x0a, i + 1)) starts.push(i + 1);
    this.lineStarts = starts;
  }

  get byteLength(): number {
    return this.bytes.length;
  }

  /** 1-based line containing the byte offset. */
  lineOfByte(offset: number): number {
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    const target = Math.max(0, Math.min(offset, this.bytes.length));
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= target) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** Last position computed on each line: lookups mostly move forward, so counting resumes there (long lines). */
  private readonly checkpoints = new Map<number, { byte: number; chars: number }>();

  /** 1-based line and character column of a byte offset. */
  positionOfByte(offset: number): Position {
    const line = this.lineOfByte(offset);
    const lineStart = this.lineStarts[line - 1] ?? 0;
    const end = Math.max(lineStart, Math.min(offset, this.bytes.length));
    if (this.ascii) return { line, column: end - lineStart + 1 };
    const cp = this.checkpoints.get(line);
    let from = lineStart;
    let chars = 0;
    if (cp && cp.byte <= end) {
      from = cp.byte;
      chars = cp.chars;
    }
    // Count code points (bytes that are not UTF-8 continuation bytes); a cut inside a character counts it once.
    for (let i = from; i < end; i++) if (((this.bytes[i] ?? 0) & 0xc0) !== 0x80) chars++;
    this.checkpoints.set(line, { byte: end, chars });
    return { line, column: chars + 1 };
  }

  /** Byte offset of a 0-based code-point index (Postgres error cursor positions count characters). */
  byteOfCharIndex(charIndex: number): number {
    if (this.ascii) return Math.max(0, Math.min(charIndex, this.bytes.length));
    let chars = 0;
    for (let i = 0; i < this.bytes.length; i++) {
      if (((this.bytes[i] ?? 0) & 0xc0) !== 0x80) {
        if (chars === charIndex) return i;
        chars++;
      }
    }
    return this.bytes.length;
  }

  slice(start: number, end: number): string {
    return this.ascii ? this.text.slice(start, end) : this.bytes.subarray(start, end).toString('utf8');
  }
}
