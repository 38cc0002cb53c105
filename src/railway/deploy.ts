// Starting a deployment from one of the three sources, always ending with the new deployment's id
// (reference §6.4: serviceInstanceDeployV2 returns it, /up returns it).
import { InputError } from '../core/errors.js';
import type { RailwayClient } from './client.js';
import type { ServiceInstanceState, ServiceScope } from './deployments.js';
import { DEPLOY_SERVICE_INSTANCE, SET_SERVICE_IMAGE } from './operations.js';

export type DeploySource =
  | { kind: 'commit'; commitSha?: string }
  | {
      kind: 'upload';
      dir: string;
      tarball: Buffer;
      files: string[];
      /** Monorepos: a different directory per service (keyed by the service name or id as given). */
      perService?: Record<string, { dir: string; tarball: Buffer; files: string[] }>;
    }
  | { kind: 'image'; image?: string };

/** The source for one service: its own upload directory when `perService` names it. */
export function sourceForService(source: DeploySource, service: { id: string; name: string }): DeploySource {
  if (source.kind !== 'upload' || !source.perService) return source;
  const own = source.perService[service.name] ?? source.perService[service.id];
  return own ? { kind: 'upload', ...own } : source;
}

/** Refuses a source the service cannot take — before anything is mutated. */
export function checkSourceFits(serviceName: string, instance: ServiceInstanceState, source: DeploySource): void {
  const repo = instance.source?.repo ?? null;
  const image = instance.source?.image ?? null;
  if (source.kind === 'commit' && !repo) {
    throw new InputError(
      'source',
      `'commit' needs a GitHub-connected service, but service '${serviceName}' has ${image ? `an image source (${image}): use source: image` : 'no repository connected: use source: upload'}`,
    );
  }
  if (source.kind === 'image' && !image) {
    throw new InputError('source', `'image' needs an image-sourced service, but service '${serviceName}' ${repo ? `deploys from the repository ${repo}: use source: commit` : 'has no image source: use source: upload'}`);
  }
}

/** Sends the one mutation (two for a changed image) that starts the deployment; returns its id. */
export async function triggerDeployment(
  client: RailwayClient,
  scope: ServiceScope,
  instance: ServiceInstanceState,
  source: DeploySource,
): Promise<{ deploymentId: string; url?: string }> {
  switch (source.kind) {
    case 'commit': {
      const data = await client.request<{ serviceInstanceDeployV2: string }>(
        DEPLOY_SERVICE_INSTANCE,
        { environmentId: scope.environmentId, serviceId: scope.serviceId, commitSha: source.commitSha || undefined },
        'DeployServiceInstance',
      );
      return { deploymentId: data.serviceInstanceDeployV2 };
    }
    case 'image': {
      if (source.image && source.image !== instance.source?.image) {
        await client.request(SET_SERVICE_IMAGE, { environmentId: scope.environmentId, serviceId: scope.serviceId, image: source.image }, 'SetServiceImage');
      }
      const data = await client.request<{ serviceInstanceDeployV2: string }>(
        DEPLOY_SERVICE_INSTANCE,
        { environmentId: scope.environmentId, serviceId: scope.serviceId },
        'DeployServiceInstance',
      );
      return { deploymentId: data.serviceInstanceDeployV2 };
    }
    case 'upload': {
      const res = await client.uploadTarball(scope, source.tarball);
      return { deploymentId: res.deploymentId, url: res.url };
    }
  }
}
