#!/usr/bin/env node
// Publishes a rail-actions release: the logic of .github/workflows/release.yml, kept here so it runs and is tested
// outside GitHub (test/release-process.test.ts drives it against test/fixtures/github-api.ts).
//
//   node scripts/release.mjs check               version, package.json and CHANGELOG.md agree (no network)
//   node scripts/release.mjs notes               prints the release notes CHANGELOG.md holds for the version
//   node scripts/release.mjs publish [--dry-run] creates/publishes the GitHub release, moves the major tag vX
//
// Environment (the runner's default variables, plus what release.yml passes through env:):
//   RELEASE_VERSION   the workflow_dispatch input ("1.2.3" or "v1.2.3"); empty on a tag push
//   GITHUB_REF_TYPE / GITHUB_REF_NAME   on a tag push: "tag" / "v1.2.3"
//   publish only: GITHUB_TOKEN, GITHUB_REPOSITORY (owner/name), GITHUB_SHA (the commit the verify job tested),
//   GITHUB_API_URL (default https://api.github.com), MOVE_MAJOR_TAG ("false" leaves vX where it is),
//   GITHUB_STEP_SUMMARY (optional: the outcome is appended there).
// The token is read from the environment only, never from argv (argv shows up in process listings and logs).
//
// publish reads every piece of state first and refuses before its first change when something does not fit, and it
// is idempotent: a run for a tag whose release is already published creates nothing, and a major tag already at the
// commit is left alone. Only built-ins are used, so the publishing job installs nothing next to its write token.
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
// Tags a release of this repository can have; anything else under refs/tags/v* (v1, vendor-x) is not a version.
const VERSION_TAG = /^refs\/tags\/v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

class ReleaseError extends Error {}

/** One line, no control characters: safe to quote in a workflow command (a newline could start a new one). */
const oneLine = (value) => JSON.stringify(String(value).slice(0, 200));

function parseVersion(text) {
  const m = SEMVER.exec(String(text).trim());
  if (!m) return undefined;
  const [major, minor, patch] = [m[1], m[2], m[3]].map(Number);
  const version = `${major}.${minor}.${patch}`;
  return { major, minor, patch, version, tag: `v${version}`, majorTag: `v${major}` };
}

const compareVersions = (a, b) => a.major - b.major || a.minor - b.minor || a.patch - b.patch;

/** The version to release: the workflow_dispatch input, else the pushed tag. */
function resolveVersion(env) {
  const input = (env.RELEASE_VERSION ?? '').trim();
  const refTag = env.GITHUB_REF_TYPE === 'tag' ? (env.GITHUB_REF_NAME ?? '') : '';
  if (input) {
    const v = parseVersion(input);
    if (!v)
      throw new ReleaseError(
        `The version input ${oneLine(input)} is not X.Y.Z (e.g. 1.2.0); pre-release versions are not released by this workflow.`,
      );
    const onTag = parseVersion(refTag);
    if (onTag && onTag.version !== v.version) {
      throw new ReleaseError(
        `This run is on tag ${refTag} but the version input says ${v.version}: run it on the branch to release from, or on tag ${v.tag}.`,
      );
    }
    return v;
  }
  if (refTag) {
    const v = parseVersion(refTag);
    if (!v) throw new ReleaseError(`Tag ${oneLine(refTag)} is not vX.Y.Z.`);
    return v;
  }
  throw new ReleaseError('No version: push a tag vX.Y.Z, or run the workflow by hand with the version input.');
}

/** `## [name] - date` sections of a keep-a-changelog file (https://keepachangelog.com/en/1.1.0/). */
function changelogSections(text) {
  const sections = [];
  let current;
  for (const line of text.split(/\r?\n/)) {
    const heading = /^## \[([^\]]+)\](?:\s+-\s+(.*?))?\s*$/.exec(line);
    if (heading) {
      current = { name: heading[1], date: heading[2] ?? '', lines: [] };
      sections.push(current);
    } else if (/^## /.test(line)) {
      current = undefined;
    } else if (current) {
      current.lines.push(line);
    }
  }
  return sections.map((s) => ({
    name: s.name,
    date: s.date,
    // Link reference definitions ("[1.2.0]: https://…compare/…") close the file and are not part of any notes.
    body: s.lines
      .filter((l) => !/^\[[^\]]+\]:\s*\S/.test(l))
      .join('\n')
      .trim(),
  }));
}

/** The notes of one version, or a ReleaseError saying what CHANGELOG.md must look like. */
function releaseNotes(changelog, v) {
  const sections = changelogSections(changelog);
  const section = sections.find((s) => s.name === v.version || s.name === v.tag);
  if (!section) {
    throw new ReleaseError(
      `CHANGELOG.md has no section "## [${v.version}] - YYYY-MM-DD": move the entries of [Unreleased] into it before tagging ${v.tag}.`,
    );
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(section.date)) {
    throw new ReleaseError(
      `CHANGELOG.md section [${v.version}] needs its release date: "## [${v.version}] - YYYY-MM-DD".`,
    );
  }
  if (!section.body) throw new ReleaseError(`CHANGELOG.md section [${v.version}] is empty: say what changed.`);
  return section.body;
}

/** Everything `check` verifies; returns the version and its notes. */
function checkRelease(root, env) {
  const v = resolveVersion(env);
  let pkg;
  try {
    pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  } catch (err) {
    throw new ReleaseError(`package.json cannot be read: ${err.message}`);
  }
  if (pkg.version !== v.version) {
    throw new ReleaseError(
      `package.json says version ${oneLine(pkg.version)} but the release is ${v.version}: set "version": "${v.version}" (npm version ${v.version} --no-git-tag-version) in the commit you tag.`,
    );
  }
  let changelog;
  try {
    changelog = readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8');
  } catch (err) {
    throw new ReleaseError(`CHANGELOG.md cannot be read: ${err.message}`);
  }
  if (!changelogSections(changelog).some((s) => s.name.toLowerCase() === 'unreleased')) {
    throw new ReleaseError(
      'CHANGELOG.md has no "## [Unreleased]" section: keep one above the newest release for the changes still to come.',
    );
  }
  return { v, notes: releaseNotes(changelog, v) };
}

// ------------------------------------------------------------------------------------------------ GitHub REST API

class ApiError extends ReleaseError {
  constructor(method, route, status, message, acceptedPermissions) {
    super(`${method} ${route} failed: HTTP ${status} ${message}`);
    Object.assign(this, { status, acceptedPermissions });
  }
}

function githubClient(env) {
  const token = env.GITHUB_TOKEN ?? '';
  if (!token) throw new ReleaseError('GITHUB_TOKEN is not set: the workflow passes github.token through env.');
  const repository = env.GITHUB_REPOSITORY ?? '';
  if (!/^[\w.-]+\/[\w.-]+$/.test(repository))
    throw new ReleaseError(`GITHUB_REPOSITORY ${oneLine(repository)} is not owner/name.`);
  const base = (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
  const repo = `/repos/${repository}`;

  async function request(method, route, body, { allow404 = false } = {}) {
    const res = await fetch(base + route, {
      method,
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${token}`,
        'x-github-api-version': '2022-11-28',
        'user-agent': 'rail-actions-release',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let data;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = text;
    }
    if (res.status === 404 && allow404) return undefined;
    if (!res.ok) {
      const message =
        typeof data === 'object' && data
          ? [data.message, ...(data.errors ?? []).map((e) => e.message ?? e.code)].filter(Boolean).join(': ')
          : String(data ?? '');
      throw new ApiError(
        method,
        route,
        res.status,
        message,
        res.headers.get('x-accepted-github-permissions') ?? undefined,
      );
    }
    return { data, link: res.headers.get('link') ?? '' };
  }

  return {
    repo,
    get: async (route, opts) => (await request('GET', route, undefined, opts))?.data,
    /** Every page of a list (Link: rel="next", docs "Using pagination in the REST API"). */
    async list(route) {
      const out = [];
      for (let page = 1; page <= 50; page++) {
        const sep = route.includes('?') ? '&' : '?';
        const { data, link } = await request('GET', `${route}${sep}per_page=100&page=${page}`);
        out.push(...data);
        if (!/rel="next"/.test(link)) break;
      }
      return out;
    },
    send: async (method, route, body) => (await request(method, route, body)).data,
  };
}

/** The commit a tag ref names (annotated tags point at a tag object, which points at the commit). */
async function peel(api, ref) {
  let { sha, type } = ref.object;
  for (let depth = 0; type === 'tag' && depth < 5; depth++) {
    const tag = await api.get(`${api.repo}/git/tags/${sha}`);
    ({ sha, type } = tag.object);
  }
  if (type !== 'commit') throw new ReleaseError(`${ref.ref} does not name a commit (${type} ${sha}).`);
  return sha;
}

/**
 * Reads the repository's state and returns the changes the release needs, in order, or throws before any change.
 * Immutable releases (docs.github.com "Immutable releases", code-security/concepts/supply-chain-security): once a
 * release is published its tag "is locked to a specific commit and cannot be changed or removed" and its assets
 * cannot change; title and notes stay editable, and a tag used by an immutable release can never be reused (even
 * after deleting the release). GitHub's recommended flow is draft → attach assets → publish, so the release is
 * complete at the moment it becomes immutable. No assets are attached here, but the draft still makes publishing one
 * PATCH of a complete release, and a run interrupted after creating it leaves a draft the next run publishes instead
 * of a second release. The major tag vX is a plain tag, not a release, and is moved, as docs "Using immutable releases and
 * tags to manage your action's releases" describes for major version tags.
 */
async function planPublish(api, { v, notes, sha, moveMajor }) {
  const published = await api.get(`${api.repo}/releases/tags/${v.tag}`, { allow404: true });
  const tags = await api.get(`${api.repo}/git/matching-refs/tags/v`);
  const tagRef = tags.find((r) => r.ref === `refs/tags/${v.tag}`);
  const tagCommit = tagRef ? await peel(api, tagRef) : undefined;
  if (tagCommit && tagCommit !== sha) {
    throw new ReleaseError(
      `Tag ${v.tag} points at ${tagCommit}, but this run verified ${sha}. Nothing was changed. Run the release on the tag itself (push it, or "Use workflow from: ${v.tag}").`,
    );
  }
  if (published && !tagCommit) {
    throw new ReleaseError(
      `Release ${v.tag} is published but tag ${v.tag} does not exist. Nothing was changed; look at the release by hand.`,
    );
  }

  const steps = [];
  let release = published;
  if (!published) {
    // "Get a release by tag name" returns published releases only; drafts are listed for users with push access.
    const draft = (await api.list(`${api.repo}/releases`)).find((r) => r.draft && r.tag_name === v.tag);
    const highest = tags
      .map((r) => VERSION_TAG.exec(r.ref))
      .filter(Boolean)
      .map((m) => ({ major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) }))
      .reduce((a, b) => (compareVersions(a, b) >= 0 ? a : b), v);
    const body = `${notes}\n\n---\nCommit: ${sha}`;
    const publish = {
      name: v.tag,
      body,
      draft: false,
      target_commitish: sha,
      make_latest: compareVersions(v, highest) >= 0 ? 'true' : 'false',
    };
    if (!draft) {
      steps.push({
        what: `create draft release ${v.tag}`,
        method: 'POST',
        route: `${api.repo}/releases`,
        body: { tag_name: v.tag, target_commitish: sha, name: v.tag, body, draft: true },
      });
    }
    steps.push({
      what: `publish release ${v.tag}`,
      method: 'PATCH',
      route: `${api.repo}/releases/${draft ? draft.id : ':draft'}`,
      body: publish,
    });
  }

  let major = { action: 'kept', note: 'move-major-tag is false' };
  if (moveMajor) {
    const majorRef = tags.find((r) => r.ref === `refs/tags/${v.majorTag}`);
    if (!majorRef) {
      major = { action: 'created' };
      steps.push({
        what: `create ${v.majorTag}`,
        method: 'POST',
        route: `${api.repo}/git/refs`,
        body: { ref: `refs/tags/${v.majorTag}`, sha },
      });
    } else {
      const from = await peel(api, majorRef);
      if (from === sha) {
        major = { action: 'already there' };
      } else {
        const { status } = await api.get(`${api.repo}/compare/${from}...${sha}`);
        if (status !== 'ahead') {
          const at = tags
            .filter((r) => VERSION_TAG.test(r.ref) && r.object.sha === from)
            .map((r) => r.ref.slice('refs/tags/'.length));
          throw new ReleaseError(
            `${v.majorTag} points at ${from}${at.length ? ` (${at.join(', ')})` : ''}, and ${v.tag} (${sha}) is ${status === 'behind' ? 'behind it' : 'not a descendant of it'}: ` +
              `moving ${v.majorTag} there would take away commits users of @${v.majorTag} already run. Nothing was changed. For a release on an older line, run the workflow by hand with move-major-tag set to false.`,
          );
        }
        major = { action: 'moved', from };
        // force: a tag is not a branch, and the ancestry was checked just above (GitHub "Update a reference").
        steps.push({
          what: `move ${v.majorTag} from ${from}`,
          method: 'PATCH',
          route: `${api.repo}/git/refs/tags/${v.majorTag}`,
          body: { sha, force: true },
        });
      }
    }
  }
  return { steps, release, major };
}

async function publish(root, env, dryRun) {
  const { v, notes } = checkRelease(root, env);
  const sha = env.GITHUB_SHA ?? '';
  if (!/^[0-9a-f]{40}$/.test(sha)) throw new ReleaseError(`GITHUB_SHA ${oneLine(sha)} is not a commit sha.`);
  const moveMajor = (env.MOVE_MAJOR_TAG ?? '').trim().toLowerCase() !== 'false';
  const api = githubClient(env);
  const plan = await planPublish(api, { v, notes, sha, moveMajor });

  if (dryRun) {
    console.log(
      plan.steps.length ? `Dry run: ${plan.steps.length} change(s) would be sent:` : 'Dry run: nothing to change.',
    );
    for (const s of plan.steps) console.log(`would ${s.method} ${s.route} ${JSON.stringify(s.body)}`);
    return;
  }

  let release = plan.release;
  for (const s of plan.steps) {
    const route = s.route.replace(':draft', String(release?.id));
    try {
      const data = await api.send(s.method, route, s.body);
      if (route.includes('/releases')) release = data;
    } catch (err) {
      if (err instanceof ApiError && err.status === 403 && route.includes('/git/refs')) {
        // GitHub can refuse a ref update from the workflow token when the commit changes .github/workflows/, and a
        // job cannot request the `workflows` permission (cloudposse/atmos#2962, jdx/packslip#83, mkb79/Audible#882).
        throw new ReleaseError(
          `${err.message}${err.acceptedPermissions ? ` (accepted permissions: ${err.acceptedPermissions})` : ''}. ` +
            `The release is published; only ${v.majorTag} was not moved. A maintainer can move it: git tag -f ${v.majorTag} ${sha} && git push -f origin ${v.majorTag} (then re-run this job: it changes nothing else).`,
        );
      }
      throw err;
    }
    console.log(`done: ${s.what}`);
  }

  const lines = [
    plan.release
      ? `Release ${v.tag} was already published: left as it is (${plan.release.html_url ?? ''}).`
      : `Release ${v.tag} published: ${release?.html_url ?? ''}`,
    `Immutable: ${release?.immutable === true ? 'yes (its tag and assets can no longer change)' : 'no (release immutability is off for this repository)'}.`,
    {
      created: `Major tag ${v.majorTag} created at ${sha}.`,
      moved: `Major tag ${v.majorTag} moved from ${plan.major.from} to ${sha}.`,
      'already there': `Major tag ${v.majorTag} already points at ${sha}.`,
      kept: `Major tag ${v.majorTag} left where it is (${plan.major.note}).`,
    }[plan.major.action],
    `Pin this release: @${v.tag}, or the commit @${sha} (what @${v.tag} names forever).`,
  ];
  for (const l of lines) console.log(l);
  if (env.GITHUB_STEP_SUMMARY)
    appendFileSync(env.GITHUB_STEP_SUMMARY, `### rail-actions ${v.tag}\n\n${lines.map((l) => `- ${l}`).join('\n')}\n`);
}

async function main(argv, env) {
  const [command, ...rest] = argv;
  const unknown = rest.filter((a) => a !== '--dry-run');
  if (unknown.length || !['check', 'notes', 'publish'].includes(command ?? '')) {
    console.error('usage: node scripts/release.mjs check | notes | publish [--dry-run]');
    return 2;
  }
  const root = process.cwd();
  // fetch and AbortSignal.timeout need Node 20+; the runner image's Node runs this script (no setup step).
  if (Number(process.versions.node.split('.')[0]) < 20) {
    console.error(`::error title=release::Node.js 20 or newer is needed, this is ${process.version}.`);
    return 1;
  }
  try {
    if (command === 'publish') {
      await publish(root, env, rest.includes('--dry-run'));
    } else {
      const { v, notes } = checkRelease(root, env);
      console.log(command === 'notes' ? notes : `${v.tag}: package.json and CHANGELOG.md agree.`);
    }
    return 0;
  } catch (err) {
    // A network failure (fetch's TypeError) names its reason in err.cause, e.g. ECONNREFUSED.
    const cause = err instanceof ReleaseError || !err?.cause ? '' : ` (${err.cause.message ?? err.cause})`;
    console.error(`::error title=release::${String(err?.message ?? err).replace(/[\r\n]+/g, ' ')}${cause}`);
    if (!(err instanceof ReleaseError)) console.error(err?.stack ?? err);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2), process.env);
