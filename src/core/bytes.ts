// One way to show a size in bytes, in pg_size_pretty's units (1 kB = 1024 bytes, PostgreSQL "Database Object
// Management Functions": https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADMIN-DBSIZE), so
// job summaries, plans and logs print sizes the same way whichever core measured them.

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** 0 → '0 B', 1536 → '1.5 kB', 52428800 → '50 MB': one decimal below 10 of a unit, none from 10 on. */
export function formatBytes(n: number): string {
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${UNITS[i]}`;
}
