// What the analysis tracks while walking one file: the transaction a statement runs in (the runner's per-file
// transaction, an explicit BEGIN … COMMIT written in the file, or none), and the timeouts the file sets itself.
import type { RawFinding } from './statements/context.js';
import type { LockMode, StatementAnalysis } from './types.js';

const TRANSACTION_START = new Set(['TRANS_STMT_BEGIN', 'TRANS_STMT_START']);
const TRANSACTION_END = new Set([
  'TRANS_STMT_COMMIT',
  'TRANS_STMT_ROLLBACK',
  'TRANS_STMT_COMMIT_PREPARED',
  'TRANS_STMT_ROLLBACK_PREPARED',
  'TRANS_STMT_PREPARE',
]);
// Locks that can queue behind a long transaction and hold others up meanwhile (everything above ROW EXCLUSIVE).
const HEAVY_LOCKS = new Set<LockMode>([
  'ACCESS EXCLUSIVE',
  'EXCLUSIVE',
  'SHARE ROW EXCLUSIVE',
  'SHARE',
  'SHARE UPDATE EXCLUSIVE',
]);

export class FileState {
  private readonly file: string;
  /** The runner executes the whole file in one transaction (no statement in it must run outside one). */
  private readonly oneTransaction: boolean;
  /** Some statements run outside a transaction: the file runs statement by statement, or has ones that are split out. */
  readonly runsOutsideTransaction: boolean;
  /** Postgres has no nested transactions: a BEGIN inside one is ignored (with a warning) and the first COMMIT ends it. */
  private depth: 0 | 1 = 0;
  private count = 0;
  private openBegin: StatementAnalysis | undefined;
  private lockTimeoutSet = false;
  private statementTimeoutSet = false;
  private lockTimeoutReported = false;
  private statementTimeoutReported = false;

  constructor(file: string, mode: 'file' | 'none', hasNonTransactional: boolean) {
    this.file = file;
    this.oneTransaction = mode === 'file' && !hasNonTransactional;
    this.runsOutsideTransaction = mode === 'none' || hasNonTransactional;
  }

  /** Inside an explicit BEGIN … COMMIT written in the file. */
  get inExplicitTransaction(): boolean {
    return this.depth > 0;
  }

  /** Identifies the transaction statement `index` runs in (NOT VALID + VALIDATE in one transaction hold the lock together). */
  transactionId(index: number): string {
    if (this.depth > 0) return `${this.file}#tx${this.count}`;
    return this.oneTransaction ? this.file : `${this.file}#${index}`;
  }

  /** A TransactionStmt of `kind` (TRANS_STMT_*): opens or closes the file's explicit transaction. */
  transactionStatement(kind: string, analysis: StatementAnalysis): RawFinding | undefined {
    if (TRANSACTION_START.has(kind)) {
      if (this.depth > 0) {
        return {
          rule: 'transaction-nesting',
          message:
            'BEGIN inside a transaction that is already open: Postgres ignores it, and the next COMMIT ends the outer transaction',
        };
      }
      this.openBegin = analysis;
      this.depth = 1;
      this.count++;
    } else if (TRANSACTION_END.has(kind)) {
      const wasOpen = this.depth > 0;
      this.depth = 0;
      this.openBegin = undefined;
      if (!wasOpen)
        return {
          rule: 'transaction-nesting',
          message:
            "COMMIT/ROLLBACK with no transaction of this file open: it ends the runner's transaction early (or does nothing)",
        };
    }
    return undefined;
  }

  /** SET of a setting by the file itself. */
  setting(name: string): void {
    if (name === 'lock_timeout') this.lockTimeoutSet = true;
    if (name === 'statement_timeout') this.statementTimeoutSet = true;
  }

  /**
   * require-lock-timeout / require-statement-timeout, once per file each: a heavy lock or a scan/rewrite of an existing
   * table before the file set the timeout itself.
   */
  timeoutFindings(lock: LockMode | null, scansOrRewrites: boolean): RawFinding[] {
    const out: RawFinding[] = [];
    if (!this.lockTimeoutSet && !this.lockTimeoutReported && lock && HEAVY_LOCKS.has(lock)) {
      this.lockTimeoutReported = true;
      out.push({
        rule: 'require-lock-timeout',
        message: `${lock} lock taken without SET lock_timeout earlier in the file`,
      });
    }
    if (!this.statementTimeoutSet && !this.statementTimeoutReported && scansOrRewrites) {
      this.statementTimeoutReported = true;
      out.push({
        rule: 'require-statement-timeout',
        message: 'a scan/rewrite without SET statement_timeout earlier in the file',
      });
    }
    return out;
  }

  /** The BEGIN left open at the end of the file, if any. */
  get uncommittedBegin(): StatementAnalysis | undefined {
    return this.depth > 0 ? this.openBegin : undefined;
  }
}
