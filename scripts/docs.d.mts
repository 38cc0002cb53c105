export function renderActionsSection(): Promise<string>;
export function updatedReadme(): Promise<{ current: string; next: string }>;
