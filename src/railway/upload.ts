// The tarball `railway up` would send (railwayapp/cli src/controllers/upload.rs): the directory walked
// like the `ignore` crate's WalkBuilder with the CLI's settings — ignore files of the directory, of its subdirectories
// AND of its parents; `.railwayignore` (custom) over `.ignore` over `.gitignore` over `.git/info/exclude`, the nearest
// file deciding within each; `.gitignore` only inside a git repository and not above its root (require_git, the
// crate's default; docs.rs ignore::WalkBuilder); hidden files kept; `.git` and `node_modules` always dropped — stored
// as ./<path relative to the archive root>, gzip.
import { existsSync } from 'node:fs';
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { create as createTar } from 'tar';
import { InputError } from '../core/errors.js';

const ALWAYS_DROPPED = new Set(['.git', 'node_modules']);

/** Classes of ignore files, highest precedence first (the ignore crate's matched_ignore order). */
type IgnoreClass = 'railwayignore' | 'ignore' | 'gitignore' | 'exclude';
const CLASSES: readonly IgnoreClass[] = ['railwayignore', 'ignore', 'gitignore', 'exclude'];
const FILE_OF: Record<Exclude<IgnoreClass, 'exclude'>, string> = {
  railwayignore: '.railwayignore',
  ignore: '.ignore',
  gitignore: '.gitignore',
};

interface Rules {
  /** Absolute directory the patterns are relative to. */
  base: string;
  cls: IgnoreClass;
  rules: Ignore;
}

export interface UploadOptions {
  /**
   * The archive's root: entries are stored relative to it. Default: the uploaded directory itself (`railway up <dir>
   * --path-as-root`). Railway builds inside the service's Root Directory of the archive (docs cli/deploying.md
   * "Deployment from Subdirectories"); planUploadRoot picks a root that fits it.
   */
  archiveRoot?: string;
  /** Do not apply `.gitignore` files (`railway up --no-gitignore`). */
  noGitignore?: boolean;
}

async function readRules(dir: string, cls: Exclude<IgnoreClass, 'exclude'>): Promise<Rules | undefined> {
  try {
    return { base: dir, cls, rules: ignore().add(await readFile(path.join(dir, FILE_OF[cls]), 'utf8')) };
  } catch {
    return undefined; // no such file here
  }
}

/** The nearest directory at or above `dir` holding `.git` (the repository root), if any. */
function gitRootOf(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, '.git'))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

/** Ignore rules of one directory (its own files; `.gitignore` only when a git repository is around). */
async function rulesOf(
  dir: string,
  git: { root: string | undefined; use: boolean },
  isRepoRoot: boolean,
): Promise<Rules[]> {
  const found = await Promise.all([
    readRules(dir, 'railwayignore'),
    readRules(dir, 'ignore'),
    git.use ? readRules(dir, 'gitignore') : undefined,
  ]);
  const out = found.filter((r): r is Rules => r !== undefined);
  if (git.use && isRepoRoot) {
    try {
      out.push({
        base: dir,
        cls: 'exclude',
        rules: ignore().add(await readFile(path.join(dir, '.git', 'info', 'exclude'), 'utf8')),
      });
    } catch {
      // no exclude file
    }
  }
  return out;
}

/**
 * The verdict for one path: per class the NEAREST ignore file with a matching pattern decides (ignore or `!`
 * whitelist), and the first class with a decision wins. `chain` is ordered outermost first.
 */
function ignoredBy(chain: Rules[], abs: string, isDir: boolean): boolean {
  for (const cls of CLASSES) {
    for (let i = chain.length - 1; i >= 0; i--) {
      const r = chain[i] as Rules;
      if (r.cls !== cls) continue;
      const rel = path.relative(r.base, abs).split(path.sep).join('/');
      if (rel === '' || rel.startsWith('..')) continue;
      const verdict = r.rules.test(isDir ? `${rel}/` : rel);
      if (verdict.ignored) return true;
      if (verdict.unignored) return false;
    }
  }
  return false;
}

/** Relative (posix) paths of the files that go into the upload, relative to the archive root, sorted. */
export async function listUploadFiles(root: string, opts: UploadOptions = {}): Promise<string[]> {
  const absRoot = path.resolve(root);
  let rootStat;
  try {
    rootStat = await stat(absRoot);
  } catch {
    throw new InputError('path', `directory '${root}' does not exist`);
  }
  if (!rootStat.isDirectory()) throw new InputError('path', `'${root}' is not a directory`);
  const archiveRoot = path.resolve(opts.archiveRoot ?? absRoot);
  const prefix = path.relative(archiveRoot, absRoot);
  if (prefix.startsWith('..') || path.isAbsolute(prefix)) {
    throw new InputError('path', `'${root}' is not inside the archive root '${archiveRoot}'`);
  }

  const gitRoot = gitRootOf(absRoot);
  const git = { root: gitRoot, use: gitRoot !== undefined && !opts.noGitignore };
  // Parents from the filesystem root down to the uploaded directory's parent; .gitignore not above the repo root.
  const parents: string[] = [];
  for (let d = path.dirname(absRoot); ; d = path.dirname(d)) {
    parents.unshift(d);
    if (path.dirname(d) === d) break;
  }
  if (absRoot === path.dirname(absRoot)) parents.length = 0;
  const inherited: Rules[] = [];
  for (const dir of parents) {
    const insideRepo = gitRoot !== undefined && (dir === gitRoot || dir.startsWith(`${gitRoot}${path.sep}`));
    inherited.push(...(await rulesOf(dir, { ...git, use: git.use && insideRepo }, dir === gitRoot)));
  }

  const files: string[] = [];
  const walk = async (absDir: string, chain: Rules[], ancestors: ReadonlySet<string>): Promise<void> => {
    const real = await realpath(absDir);
    if (ancestors.has(real)) return; // a symlink pointing back up: a loop
    const seen = new Set(ancestors).add(real);
    const own = await rulesOf(absDir, git, absDir === gitRoot);
    const rules = own.length ? [...chain, ...own] : chain;
    const entries = await readdir(absDir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (ALWAYS_DROPPED.has(entry.name)) continue;
      const abs = path.join(absDir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        // Followed, like the CLI (follow_links(true)); dangling links are skipped.
        const target = await stat(abs).catch(() => undefined);
        if (!target) continue;
        isDir = target.isDirectory();
        isFile = target.isFile();
      }
      if (ignoredBy(rules, abs, isDir)) continue;
      if (isDir) await walk(abs, rules, seen);
      else if (isFile) files.push(path.relative(archiveRoot, abs).split(path.sep).join('/'));
    }
  };
  await walk(absRoot, inherited, new Set());
  return files.sort();
}

/** Gzip'd tar of `root` as the upload body, plus the file list (relative to the archive root, for logs and tests). */
export async function createUploadTarball(
  root: string,
  opts: UploadOptions = {},
): Promise<{ body: Buffer; files: string[] }> {
  const files = await listUploadFiles(root, opts);
  if (files.length === 0)
    throw new InputError('path', `'${root}' has no files to upload after applying .gitignore/.railwayignore/.ignore`);
  const chunks: Buffer[] = [];
  const cwd = path.resolve(opts.archiveRoot ?? root);
  const stream = createTar(
    { gzip: true, cwd, portable: true, follow: true, noDirRecurse: true },
    files.map((f) => `./${f}`),
  );
  for await (const chunk of stream as AsyncIterable<Buffer | string>)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return { body: Buffer.concat(chunks), files };
}

/** A Root Directory as a relative posix path ('' = the archive root). */
export function normaliseRootDirectory(dir: string | null | undefined): string {
  return (dir ?? '')
    .replace(/\\/g, '/')
    .replace(/^[./]+(?=\/|$)/, '')
    .replace(/^\/+|\/+$/g, '');
}

/**
 * The archive root an upload of `dir` needs for a service whose Root Directory is `rootDirectory`: Railway builds
 * inside the Root Directory of what it receives, uploads included (docs cli/deploying.md "Deployment from
 * Subdirectories", builds/build-configuration.md). No Root Directory → `dir` itself is the root (`--path-as-root`).
 * With one, `dir` must be that directory (the root is then the directory above it, so entries keep the prefix, as
 * `railway up <dir>` without --path-as-root from the repository root sends them) or contain it (the repository root).
 */
export function planUploadRoot(
  dir: string,
  rootDirectory: string | null | undefined,
  serviceName: string,
): { archiveRoot: string } {
  const abs = path.resolve(dir);
  const root = normaliseRootDirectory(rootDirectory);
  if (root === '') return { archiveRoot: abs };
  const parts = root.split('/');
  const tail = abs.split(path.sep).slice(-parts.length).join('/');
  if (tail === root) return { archiveRoot: path.resolve(abs, ...parts.map(() => '..')) };
  if (existsSync(path.join(abs, ...parts))) return { archiveRoot: abs };
  throw new InputError(
    'path',
    `service '${serviceName}' has the Root Directory '/${root}', where Railway builds (uploads too), but '${dir}' neither is that directory nor contains it: upload the repository root or its '${root}' directory`,
  );
}

/** Whether an archive's files (relative to its root) hold anything inside the service's Root Directory. */
export function archiveFitsRootDirectory(files: readonly string[], rootDirectory: string | null | undefined): boolean {
  const root = normaliseRootDirectory(rootDirectory);
  return root === '' || files.some((f) => f.startsWith(`${root}/`));
}
