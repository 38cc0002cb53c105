// Parsers for what an action tells the runner: file commands (GITHUB_OUTPUT/ENV/STATE) and `::command::` log lines.
// Both follow the runner's own rules (actions/runner: FileCommandManager.cs, ActionCommand.cs) so a malformed
// output that would fail a real step fails here too.

/**
 * Parses a GITHUB_OUTPUT / GITHUB_ENV / GITHUB_STATE file: `name=value` lines and `name<<DELIM` … `DELIM` blocks.
 * Like the runner: empty lines are skipped, whichever of `=` / `<<` comes first decides the form, a heredoc without
 * its closing delimiter or a line with neither form is an error that names the file.
 */
export function parseKeyValueFile(text: string, fileLabel: string): Record<string, string> {
  const result: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const eq = line.indexOf('=');
    const heredoc = line.indexOf('<<');
    if (eq >= 0 && (heredoc < 0 || eq < heredoc)) {
      const key = line.slice(0, eq);
      if (key === '') throw new Error(`${fileLabel}: invalid line (empty name): '${line}'`);
      result[key] = line.slice(eq + 1);
    } else if (heredoc >= 0) {
      const key = line.slice(0, heredoc);
      const delimiter = line.slice(heredoc + 2);
      if (key === '') throw new Error(`${fileLabel}: invalid line (empty name): '${line}'`);
      if (delimiter === '') throw new Error(`${fileLabel}: invalid heredoc (empty delimiter) for '${key}'`);
      const value: string[] = [];
      let closed = false;
      for (i++; i < lines.length; i++) {
        if (lines[i] === delimiter) {
          closed = true;
          break;
        }
        value.push(lines[i]!);
      }
      if (!closed) throw new Error(`${fileLabel}: matching delimiter not found '${delimiter}' for '${key}'`);
      result[key] = value.join('\n');
    } else {
      throw new Error(`${fileLabel}: invalid format '${line}'`);
    }
  }
  return result;
}

export interface WorkflowCommand {
  command: string;
  properties: Record<string, string>;
  data: string;
}

function unescapeData(s: string): string {
  return s.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%');
}

function unescapeProperty(s: string): string {
  return unescapeData(s).replace(/%3A/gi, ':').replace(/%2C/gi, ',');
}

/** `::name key=v,key2=v2::data` → command; anything else → undefined (it is a plain log line). */
export function parseWorkflowCommand(line: string): WorkflowCommand | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('::')) return undefined;
  const end = trimmed.indexOf('::', 2);
  if (end < 0) return undefined;
  const info = trimmed.slice(2, end);
  const space = info.indexOf(' ');
  const command = space < 0 ? info : info.slice(0, space);
  if (command === '') return undefined;
  const properties: Record<string, string> = {};
  if (space >= 0) {
    for (const pair of info.slice(space + 1).split(',')) {
      const eq = pair.indexOf('=');
      if (eq > 0) properties[pair.slice(0, eq).trim()] = unescapeProperty(pair.slice(eq + 1));
    }
  }
  return { command, properties, data: unescapeData(trimmed.slice(end + 2)) };
}
