// The public address of a Railway deployment. Railway names it in two places: the /up upload response's
// `deploymentDomain` (its `url` is a link to the dashboard, not the app — railwayapp/cli src/commands/up.rs prints
// deploymentDomain as the service URL) and a deployment's `staticUrl` (the service's domain, a bare host name).

/** A host name or URL → an absolute URL: `https://` added unless a scheme is already there. Empty → undefined. */
export function httpsUrl(domainOrUrl: string | null | undefined): string | undefined {
  const v = domainOrUrl?.trim();
  if (!v) return undefined;
  return /^https?:\/\//i.test(v) ? v : `https://${v}`;
}

/**
 * A deployment's app URL: the service's own domain (`staticUrl`) first, the deployment's `url` only when the service
 * has no domain; undefined when neither is set (a worker without a public domain).
 */
export function deploymentUrl(
  d: { staticUrl?: string | null; url?: string | null } | null | undefined,
): string | undefined {
  return httpsUrl(d?.staticUrl) ?? httpsUrl(d?.url);
}
