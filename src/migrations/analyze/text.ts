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
  /**
   * Multi-byte text: byte offsets map to string indexes by counting UTF-8 lead bytes from a cursor that moves with the
   * lookups (statements are visited in order, so the walk is linear over the file), instead of decoding a Buffer per
   * slice. Off when the string has lone surrogates: they encode as U+FFFD (3 bytes) and the mapping would not hold.
   */
  private readonly mapped: boolean;
  /** Code points before each line start (multi-byte text only), for columns. */
  private lineCodePoints: number[] | undefined;
  /** Cursor: at byte `curByte` there are `curCp` code points and `curU16` UTF-16 units before it. */
  private curByte = 0;
  private curCp = 0;
  private curU16 = 0;

  constructor(text: string) {
    this.text = text;
    this.bytes = Buffer.from(text, 'utf8');
    this.ascii = this.bytes.length === text.length;
    this.mapped = !this.ascii && !LONE_SURROGATE.test(text);
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

  /** 1-based line and character column of a byte offset. */
  positionOfByte(offset: number): Position {
    const line = this.lineOfByte(offset);
    const lineStart = this.lineStarts[line - 1] ?? 0;
    const end = Math.max(lineStart, Math.min(offset, this.bytes.length));
    if (this.ascii) return { line, column: end - lineStart + 1 };
    // Code points (bytes that are not UTF-8 continuation bytes) from the line start; a cut inside a character counts it once.
    this.lineCodePoints ??= this.countLineCodePoints();
    this.moveTo(end);
    return { line, column: this.curCp - (this.lineCodePoints[line - 1] ?? 0) + 1 };
  }

  private countLineCodePoints(): number[] {
    const b = this.bytes;
    const starts = this.lineStarts;
    const out = new Array<number>(starts.length);
    let cp = 0;
    let pos = 0;
    for (let l = 0; l < starts.length; l++) {
      const s = starts[l] ?? 0;
      for (; pos < s; pos++) if (((b[pos] ?? 0) & 0xc0) !== 0x80) cp++;
      out[l] = cp;
    }
    return out;
  }

  /** Moves the cursor to a byte offset (0 ≤ offset ≤ byteLength), counting code points and UTF-16 units on the way. */
  private moveTo(offset: number): void {
    const b = this.bytes;
    let pos = this.curByte;
    let cp = this.curCp;
    let u16 = this.curU16;
    // A lead byte starts a code point; 4-byte sequences (0xF0…) are two UTF-16 units (a surrogate pair).
    for (; pos < offset; pos++) {
      const x = b[pos] ?? 0;
      if ((x & 0xc0) !== 0x80) {
        cp++;
        u16 += x >= 0xf0 ? 2 : 1;
      }
    }
    for (; pos > offset; pos--) {
      const x = b[pos - 1] ?? 0;
      if ((x & 0xc0) !== 0x80) {
        cp--;
        u16 -= x >= 0xf0 ? 2 : 1;
      }
    }
    this.curByte = pos;
    this.curCp = cp;
    this.curU16 = u16;
  }

  /** String index of a byte offset on a character boundary (mapped text only). */
  private indexOfByte(offset: number): number {
    this.moveTo(offset);
    return this.curU16;
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
    if (this.ascii) return this.text.slice(start, end);
    const len = this.bytes.length;
    const s = Math.max(0, Math.min(start, len));
    const e = Math.max(s, Math.min(end, len));
    // Parser offsets fall on character boundaries; a cut inside a character decodes like Buffer#toString (U+FFFD).
    if (!this.mapped || this.insideCharacter(s) || this.insideCharacter(e))
      return this.bytes.subarray(s, e).toString('utf8');
    const from = this.indexOfByte(s);
    return this.text.slice(from, this.indexOfByte(e));
  }

  private insideCharacter(offset: number): boolean {
    return offset < this.bytes.length && ((this.bytes[offset] ?? 0) & 0xc0) === 0x80;
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
