// The tarball `railway up` would send (reference §3.2): the directory walked with .gitignore and .railwayignore
// rules (nested files apply to their own subtree), hidden files kept, .git and node_modules always dropped,
// entries stored as ./<relative path>, gzip.
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { create as createTar } from 'tar';
import { InputError } from '../core/errors.js';

const ALWAYS_DROPPED = new Set(['.git', 'node_modules']);
const IGNORE_FILES = ['.gitignore', '.railwayignore'];

interface Scope {
  /** Directory (relative to the root, '' for the root) whose ignore files these are. */
  base: string;
  rules: Ignore;
}

async function loadScope(absDir: string, relDir: string): Promise<Scope | undefined> {
  const rules = ignore();
  let found = false;
  for (const name of IGNORE_FILES) {
    try {
      rules.add(await readFile(path.join(absDir, name), 'utf8'));
      found = true;
    } catch {
      // no such file here
    }
  }
  return found ? { base: relDir, rules } : undefined;
}

function ignoredBy(scopes: Scope[], relPath: string, isDir: boolean): boolean {
  for (const scope of scopes) {
    const inScope = scope.base === '' ? relPath : path.posix.relative(scope.base, relPath);
    if (inScope === '' || inScope.startsWith('..')) continue;
    if (scope.rules.ignores(isDir ? `${inScope}/` : inScope)) return true;
  }
  return false;
}

/** Relative (posix) paths of the files that go into the upload, sorted. */
export async function listUploadFiles(root: string): Promise<string[]> {
  const absRoot = path.resolve(root);
  let rootStat;
  try {
    rootStat = await stat(absRoot);
  } catch {
    throw new InputError('path', `directory '${root}' does not exist`);
  }
  if (!rootStat.isDirectory()) throw new InputError('path', `'${root}' is not a directory`);

  const files: string[] = [];
  const walk = async (absDir: string, relDir: string, inherited: Scope[], ancestors: ReadonlySet<string>): Promise<void> => {
    const real = await realpath(absDir);
    if (ancestors.has(real)) return; // a symlink pointing back up: a loop
    const chain = new Set(ancestors).add(real);
    const own = await loadScope(absDir, relDir);
    const scopes = own ? [...inherited, own] : inherited;
    const entries = await readdir(absDir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (ALWAYS_DROPPED.has(entry.name)) continue;
      const abs = path.join(absDir, entry.name);
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        // Followed, like the CLI; dangling links are skipped.
        const target = await stat(abs).catch(() => undefined);
        if (!target) continue;
        isDir = target.isDirectory();
        isFile = target.isFile();
      }
      if (ignoredBy(scopes, rel, isDir)) continue;
      if (isDir) await walk(abs, rel, scopes, chain);
      else if (isFile) files.push(rel);
    }
  };
  await walk(absRoot, '', [], new Set());
  return files.sort();
}

/** Gzip'd tar of `root` as the upload body, plus the file list (for logs and tests). */
export async function createUploadTarball(root: string): Promise<{ body: Buffer; files: string[] }> {
  const files = await listUploadFiles(root);
  if (files.length === 0) throw new InputError('path', `'${root}' has no files to upload after applying .gitignore/.railwayignore`);
  const chunks: Buffer[] = [];
  const stream = createTar({ gzip: true, cwd: path.resolve(root), portable: true, follow: true, noDirRecurse: true }, files.map((f) => `./${f}`));
  for await (const chunk of stream as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return { body: Buffer.concat(chunks), files };
}
