// Quoting for the few places that must put a name or value into SQL text (DDL and messages that tell a person what
// to run), where bind parameters cannot be used. PostgreSQL "Lexical Structure", 4.1.1 and 4.1.2.1:
// https://www.postgresql.org/docs/current/sql-syntax-lexical.html

/** A quoted identifier: `"` doubled inside double quotes (case kept, any character but NUL allowed). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `schema.name` quoted part by part, or just the quoted name when no schema is given. */
export function quoteQualified(schema: string | undefined, name: string): string {
  return schema ? `${quoteIdent(schema)}.${quoteIdent(name)}` : quoteIdent(name);
}

/**
 * A string constant: `'` doubled inside single quotes. Backslashes stay literal, as they are with
 * standard_conforming_strings on (the default since PostgreSQL 9.1).
 */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
