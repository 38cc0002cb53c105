import pg from 'pg';
import { Redis } from 'ioredis';

export function createPool(databaseUrl: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, connectionTimeoutMillis: 3000 });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', (err) => console.error(`PostgreSQL pool: ${err.message}`));
  return pool;
}

export function connectRedis(redisUrl: string): Redis {
  const redis = new Redis(redisUrl, {
    // Fail commands at once while disconnected (health reports it) instead of queueing them forever.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  redis.on('error', (err: Error) => console.error(`Redis: ${err.message}`));
  return redis;
}
