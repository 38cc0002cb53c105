export function renderActionsSection(): Promise<string>;
export function renderWorkflowsSection(): Promise<string>;
export function renderExampleSection(): Promise<string>;
export function updatedReadme(): Promise<{ current: string; next: string }>;
export const RELEASE_ALIAS: string;
export function renderReleaseAlias(): Promise<string>;
