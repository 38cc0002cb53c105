// The promotion guard's policy: may this commit go to production, given what GitHub Deployments record about it in
// the environment it must have passed first (e.g. staging)? Pure: it judges a record read elsewhere
// (src/github/deployment-history.ts) and never calls anything.
//
// What counts as proof is what deploy.yml's release job writes, and nothing else:
//   - "Start the GitHub deployment" creates the deployment with the description `Deploying <sha> to Railway`
//     (actions/github-deployment passes its description to both the deployment and its first status);
//   - "Record the outcome" sets `success` only when the release result is `deployed`, with the description
//     `Release deployed - …`; `failure` / `error` carry `Release <result> - …` (rolled-back, failed, needs-human, …).
// A deployment made by another tool under the same environment name is never proof.
import type { DeploymentHistoryEntry } from '../github/deployment-history.js';
import type { DeploymentStatusRecord } from '../github/rest.js';

/** The deployment description deploy.yml writes (its "Start the GitHub deployment" step). */
export const RECORD_DESCRIPTION = /^Deploying ([0-9a-f]{40}) to Railway$/;
/** The status description deploy.yml's "Record the outcome" step writes: `Release <result> - …`. */
const OUTCOME_DESCRIPTION = /^Release ([a-z-]+)\b/;

export interface PromotionEvidence {
  id: number;
  /** API URL of the deployment. */
  url: string;
  /** The URL the environment served the release at (the status' environment_url). */
  environmentUrl: string | null;
  /** The workflow run that recorded the status (its log_url). */
  logUrl: string | null;
  /** When the deciding status was set (ISO 8601). */
  at: string;
  state: string;
}

export interface PromotionVerdict {
  verified: boolean;
  /** One sentence: which deployment proved the commit, or why none did. */
  reason: string;
  /** The deployment that decided (the newest one deploy.yml recorded for this commit), when there is one. */
  decidedBy?: PromotionEvidence;
  /** Every deployment of the commit in the environment, newest first, with what the guard made of it (for the summary). */
  considered: Array<{ id: number; state: string; at: string; note: string }>;
}

export interface PromotionInput {
  /** Full 40-character commit SHA. */
  sha: string;
  environment: string;
  /** Deployments of `sha` in `environment` with their statuses, in any order. */
  history: DeploymentHistoryEntry[];
}

const short = (sha: string) => sha.slice(0, 7);
/** Newest first: GitHub timestamps have one-second resolution, so ties fall back to the (increasing) id. */
const newestFirst = <T extends { createdAt: string; id: number }>(a: T, b: T) =>
  Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.id - a.id;

function latestStatus(statuses: DeploymentStatusRecord[]): DeploymentStatusRecord | undefined {
  return [...statuses].sort(newestFirst)[0];
}

/** The release result a status of deploy.yml names (`Release rolled-back - …` → rolled-back), if it names one. */
function outcomeOf(status: DeploymentStatusRecord): string | undefined {
  return OUTCOME_DESCRIPTION.exec(status.description ?? '')?.[1];
}

function evidence(entry: DeploymentHistoryEntry, status: DeploymentStatusRecord | undefined): PromotionEvidence {
  return {
    id: entry.deployment.id,
    url: entry.deployment.url,
    environmentUrl: status?.environmentUrl ?? null,
    logUrl: status?.logUrl ?? null,
    at: status?.createdAt ?? entry.deployment.createdAt,
    state: status?.state ?? 'none',
  };
}

/** Why the latest status does not prove the release, in words a person acts on. */
function refusal(status: DeploymentStatusRecord | undefined, environment: string): string {
  if (!status) return 'it has no status (its run stopped before the release started)';
  const outcome = outcomeOf(status);
  const result = outcome ? ` (release ${outcome})` : '';
  switch (status.state) {
    case 'success':
      return `its latest status success was not set by deploy.yml's release (description '${status.description ?? ''}')`;
    case 'failure':
      return `latest status failure${result}: the release did not verify and ${environment} was left on or restored to the previous version`;
    case 'error':
      return `latest status error${result}: the release needs a person (rollback failed or withheld, or the run was cancelled)`;
    case 'inactive':
      return `superseded: latest status inactive - a later deployment to ${environment} replaced it, so ${environment} no longer runs this commit`;
    case 'queued':
    case 'pending':
    case 'in_progress':
      return `still ${status.state}: its release has not finished`;
    default:
      return `latest status ${status.state}`;
  }
}

export function decidePromotion(input: PromotionInput): PromotionVerdict {
  const sha = input.sha.toLowerCase();
  const env = input.environment;
  // The list is filtered by sha server-side; the check here keeps a wrong answer from ever counting.
  const ofCommit = input.history.filter((h) => h.deployment.sha.toLowerCase() === sha);
  const ours = ofCommit.filter((h) => RECORD_DESCRIPTION.exec(h.deployment.description ?? '')?.[1] === sha);
  const sorted = [...ours].sort((a, b) => newestFirst(a.deployment, b.deployment));
  const considered: PromotionVerdict['considered'] = [...ofCommit]
    .sort((a, b) => newestFirst(a.deployment, b.deployment))
    .map((h) => {
      const latest = latestStatus(h.statuses);
      const isOurs = ours.includes(h);
      const decides = isOurs && h === sorted[0];
      const note = !isOurs
        ? 'not recorded by rail-actions deploy.yml: ignored'
        : decides
          ? 'newest: decides'
          : 'older: the newest attempt decides';
      return {
        id: h.deployment.id,
        state: latest?.state ?? 'none',
        at: latest?.createdAt ?? h.deployment.createdAt,
        note,
      };
    });

  const newest = sorted[0];
  if (!newest) {
    const foreign = ofCommit.length;
    return {
      verified: false,
      reason:
        `no deployment of ${short(sha)} in ${env} recorded by rail-actions deploy.yml` +
        (foreign ? ` (${foreign} deployment(s) by other tools ignored)` : '') +
        `: deploy this commit to ${env} first (deploy.yml with github-environment: ${env})`,
      considered,
    };
  }

  const latest = latestStatus(newest.statuses);
  const id = newest.deployment.id;
  const decidedBy = evidence(newest, latest);
  const run = latest?.logUrl ? ` by run ${latest.logUrl}` : '';
  if (latest?.state === 'success' && outcomeOf(latest) === 'deployed') {
    return {
      verified: true,
      reason: `deployment ${id} of ${short(sha)} in ${env}: success at ${latest.createdAt}${run}`,
      decidedBy,
      considered,
    };
  }
  // An older success does not rescue a newer failed attempt: the latest evidence about this commit there decides.
  const olderSuccess = sorted.slice(1).find((h) => latestStatus(h.statuses)?.state === 'success');
  return {
    verified: false,
    reason:
      `deployment ${id} of ${short(sha)} in ${env} does not prove it: ${refusal(latest, env)}` +
      (latest ? ` (at ${latest.createdAt}${run})` : '') +
      (olderSuccess
        ? `; the earlier deployment ${olderSuccess.deployment.id} succeeded, but the newest attempt decides`
        : ''),
    decidedBy,
    considered,
  };
}
