// Entry point: `npm start` (Railway runs it after `npm run build`). Configuration comes from the environment:
// DATABASE_URL, REDIS_URL, PORT (set by Railway), APP_VERSION or RAILWAY_GIT_COMMIT_SHA, RAILWAY_DEPLOYMENT_ID.
import pg from 'pg';
import { Redis } from 'ioredis';
import { createApp } from './app.js';
import { connectRedis, createPool } from './clients.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is not set`);
    process.exit(1);
  }
  return value;
}

const db: pg.Pool = createPool(required('DATABASE_URL'));
const redis: Redis = connectRedis(required('REDIS_URL'));
const server = createApp({
  db,
  redis,
  version: process.env['APP_VERSION'] || process.env['RAILWAY_GIT_COMMIT_SHA'] || 'dev',
  deploymentId: process.env['RAILWAY_DEPLOYMENT_ID'] || null,
});
const port = Number(process.env['PORT'] || 3000);
server.listen(port, () => console.log(`listening on :${port}`));

// Railway sends SIGTERM before replacing a deployment: finish in-flight requests, then close the pools.
process.once('SIGTERM', () => {
  server.close(() => {
    void Promise.allSettled([db.end(), redis.quit()]).then(() => process.exit(0));
  });
});
