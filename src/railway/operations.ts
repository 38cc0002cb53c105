// Every GraphQL operation the Railway client sends. Kept as exported constants so one test can validate
// each of them against Railway's public schema (the introspection JSON railwayapp/cli keeps in src/gql/schema.json;
// test/railway-operations.test.ts reads a copy from ../shared/railway/schema.json when present) and the emulator's
// SDL. Where the official CLI has the same operation (railwayapp/cli src/gql/queries, mutations, subscriptions), the
// text follows it; selection sets are kept small on purpose.

/** Token probe: succeeds only for a project token sent as Project-Access-Token (docs.railway.com integrations/api.md "Project token"; railwayapp/cli src/client.rs). */
export const PROJECT_TOKEN_INFO = /* GraphQL */ `
  query ProjectTokenInfo {
    projectToken {
      projectId
      environmentId
      project {
        id
        name
      }
      environment {
        id
        name
      }
    }
  }
`;

/**
 * Account/workspace token probe (Authorization: Bearer): "Introspect the current API token and its accessible
 * workspaces" (schema description of Query.apiToken) — every Bearer kind can read it, unlike `me` (account tokens
 * only, docs integrations/api.md) or `projects` without workspaceId (personal projects only, docs
 * integrations/api/manage-projects.md; workspace tokens cannot see personal resources, docs integrations/api.md).
 */
export const TOKEN_WORKSPACES = /* GraphQL */ `
  query TokenWorkspaces {
    apiToken {
      workspaces {
        id
        name
      }
    }
  }
`;

/** One page of projects: personal ones without workspaceId, a workspace's with it (docs manage-projects.md). */
export const LIST_PROJECTS = /* GraphQL */ `
  query ListProjects($workspaceId: String, $first: Int, $after: String) {
    projects(workspaceId: $workspaceId, first: $first, after: $after) {
      edges {
        node {
          id
          name
          workspaceId
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

/** Names and ids of a project's environments and services, for resolving inputs. */
export const PROJECT_TOPOLOGY = /* GraphQL */ `
  query ProjectTopology($id: String!) {
    project(id: $id) {
      id
      name
      environments {
        edges {
          node {
            id
            name
          }
        }
      }
      services {
        edges {
          node {
            id
            name
          }
        }
      }
    }
  }
`;

/** The service-instance fields both state queries read (the text is spliced in, so each operation stays one string). */
const SERVICE_INSTANCE_FIELDS = `    id
    serviceName
    rootDirectory
    source { repo image }
    latestDeployment { id status createdAt canRollback }
    activeDeployments { id status createdAt }
    domains {
      serviceDomains { domain }
      customDomains { domain status { verified } }
    }`;

/** What a service runs in an environment right now: latest/active deployments, source and public domains. */
export const SERVICE_INSTANCE_STATE = /* GraphQL */ `
query ServiceInstanceState($environmentId: String!, $serviceId: String!) {
  serviceInstance(environmentId: $environmentId, serviceId: $serviceId) {
${SERVICE_INSTANCE_FIELDS}
  }
}`;

/**
 * SERVICE_INSTANCE_STATE and the first page of LIST_DEPLOYMENTS in ONE request (two root fields of one query): what a
 * release reads before deploying. On the Free plan's 100 requests an hour (docs integrations/api.md) every request
 * a deploy saves counts.
 */
export const SERVICE_STATE = /* GraphQL */ `
query ServiceState($environmentId: String!, $serviceId: String!, $input: DeploymentListInput!, $first: Int) {
  serviceInstance(environmentId: $environmentId, serviceId: $serviceId) {
${SERVICE_INSTANCE_FIELDS}
  }
  deployments(input: $input, first: $first) {
    edges {
      node { id status createdAt canRollback canRedeploy url staticUrl meta }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** Deployment history of one service (paginated; ordering is not trusted, callers sort by createdAt). */
export const LIST_DEPLOYMENTS = /* GraphQL */ `
  query ListDeployments($input: DeploymentListInput!, $first: Int, $after: String) {
    deployments(input: $input, first: $first, after: $after) {
      edges {
        node {
          id
          status
          createdAt
          canRollback
          canRedeploy
          url
          staticUrl
          meta
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

export const GET_DEPLOYMENT = /* GraphQL */ `
  query GetDeployment($id: String!) {
    deployment(id: $id) {
      id
      status
      createdAt
      serviceId
      environmentId
      canRollback
      canRedeploy
      deploymentStopped
      url
      staticUrl
      meta
      instances {
        id
        status
      }
    }
  }
`;

/** Whether Railway deploys every push of the connected repository by itself (docs deployments/github-autodeploys.md). */
export const AUTO_DEPLOY_STATUS = /* GraphQL */ `
  query AutoDeployStatus($projectId: String!, $environmentId: String!, $serviceId: String!) {
    serviceInstanceAutoDeployStatus(projectId: $projectId, environmentId: $environmentId, serviceId: $serviceId) {
      enabled
      canEnable
      reason
    }
  }
`;

/** Status stream over graphql-transport-ws (instances too: a crash loop can still read SUCCESS); the poller uses GET_DEPLOYMENT. */
export const DEPLOYMENT_STATUS_SUBSCRIPTION = /* GraphQL */ `
  subscription DeploymentStatus($id: String!) {
    deployment(id: $id) {
      id
      status
      instances {
        status
      }
    }
  }
`;

/**
 * Deploys the service's source and returns the new deployment id. For a repo-connected service pass commitSha:
 * without it Railway deploys "the commit currently associated with the service", not the branch head (docs
 * integrations/api/manage-services.md; docs PR #1163). Image services take no commit.
 */
export const DEPLOY_SERVICE_INSTANCE = /* GraphQL */ `
  mutation DeployServiceInstance($environmentId: String!, $serviceId: String!, $commitSha: String) {
    serviceInstanceDeployV2(environmentId: $environmentId, serviceId: $serviceId, commitSha: $commitSha)
  }
`;

/**
 * Points an image-sourced service at another image before deploying it. environmentId is required here on purpose:
 * without it Railway updates every environment that is not a fork (schema argument description).
 */
export const SET_SERVICE_IMAGE = /* GraphQL */ `
  mutation SetServiceImage($environmentId: String!, $serviceId: String!, $image: String!) {
    serviceInstanceUpdate(environmentId: $environmentId, serviceId: $serviceId, input: { source: { image: $image } })
  }
`;

/** Restores a retained deployment's image and variables. Returns Boolean: no selection set (docs are wrong). */
export const ROLLBACK_DEPLOYMENT = /* GraphQL */ `
  mutation RollbackDeployment($id: String!) {
    deploymentRollback(id: $id)
  }
`;

/** Rebuilds from a deployment's source: the fallback when its image is no longer retained. */
export const REDEPLOY_DEPLOYMENT = /* GraphQL */ `
  mutation RedeployDeployment($id: String!) {
    deploymentRedeploy(id: $id) {
      id
      status
      createdAt
    }
  }
`;

/** Cancels ("Abort") an initializing or building deployment, which ends REMOVED (docs deployments/reference.md). */
export const CANCEL_DEPLOYMENT = /* GraphQL */ `
  mutation CancelDeployment($id: String!) {
    deploymentCancel(id: $id)
  }
`;

export const BUILD_LOGS = /* GraphQL */ `
  query BuildLogs($deploymentId: String!, $limit: Int) {
    buildLogs(deploymentId: $deploymentId, limit: $limit) {
      timestamp
      message
      severity
    }
  }
`;

export const DEPLOYMENT_LOGS = /* GraphQL */ `
  query DeploymentLogs($deploymentId: String!, $limit: Int) {
    deploymentLogs(deploymentId: $deploymentId, limit: $limit) {
      timestamp
      message
      severity
    }
  }
`;

export const DEPLOYMENT_EVENTS = /* GraphQL */ `
  query DeploymentEvents($id: String!, $first: Int) {
    deploymentEvents(id: $id, first: $first) {
      edges {
        node {
          id
          step
          createdAt
          completedAt
          payload {
            attempt
            maxAttempts
            error
            reason
            detail
            durationMs
            skipped
          }
        }
      }
    }
  }
`;

/** Every operation above by name, for the validation test. */
export const ALL_OPERATIONS: Readonly<Record<string, string>> = {
  PROJECT_TOKEN_INFO,
  TOKEN_WORKSPACES,
  LIST_PROJECTS,
  AUTO_DEPLOY_STATUS,
  PROJECT_TOPOLOGY,
  SERVICE_INSTANCE_STATE,
  SERVICE_STATE,
  LIST_DEPLOYMENTS,
  GET_DEPLOYMENT,
  DEPLOYMENT_STATUS_SUBSCRIPTION,
  DEPLOY_SERVICE_INSTANCE,
  SET_SERVICE_IMAGE,
  ROLLBACK_DEPLOYMENT,
  REDEPLOY_DEPLOYMENT,
  CANCEL_DEPLOYMENT,
  BUILD_LOGS,
  DEPLOYMENT_LOGS,
  DEPLOYMENT_EVENTS,
};
