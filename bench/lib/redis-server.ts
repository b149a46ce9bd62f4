/**
 * A private redis-server for the Redis comparison: found on PATH, or installed with apt-get
 * when this process runs as root; started on 127.0.0.1 on a free port with persistence off
 * and in the foreground (`--daemonize no`), so it is stopped by its pid at cleanup like the
 * daemons.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freeTcpPort, sleep, spawnProcess, type Proc } from './cluster.js';
import { Redis } from 'ioredis';

const run = promisify(execFile);

function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':').concat(['/usr/bin', '/usr/sbin', '/usr/local/bin'])) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** The redis-server binary, installing it when missing and root; or why there is none. */
export async function ensureRedisServer(log: (line: string) => void): Promise<{ path: string; installed: boolean } | { skip: string }> {
  const found = onPath('redis-server');
  if (found) return { path: found, installed: false };
  if (process.getuid?.() !== 0) return { skip: 'redis-server is not installed and this is not root (apt-get install redis-server, then run again)' };
  log('redis-server missing: apt-get update && apt-get install -y redis-server');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await run('apt-get', ['update'], { env, timeout: 180_000, maxBuffer: 16 << 20 });
    await run('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server'], { env, timeout: 240_000, maxBuffer: 16 << 20 });
  } catch (err) {
    return {
      skip: `installing redis-server failed: ${String((err as { stderr?: string }).stderr ?? (err as Error).message)
        .trim()
        .split('\n')
        .slice(-2)
        .join(' / ')}`,
    };
  }
  const path = onPath('redis-server');
  return path ? { path, installed: true } : { skip: 'apt-get installed redis-server but no redis-server binary was found' };
}

export async function redisVersion(path: string): Promise<string> {
  const { stdout } = await run(path, ['--version']);
  return /v=(\S+)/.exec(stdout)?.[1] ?? stdout.trim();
}

/** Start redis-server on 127.0.0.1:<free port>; resolves once it answers PING. */
export async function startRedis(path: string): Promise<{ proc: Proc; port: number }> {
  const port = await freeTcpPort();
  const proc = spawnProcess(path, [
    '--save',
    '',
    '--appendonly',
    'no',
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ]);
  for (let i = 0; i < 100; i++) {
    if (proc.child.exitCode !== null) throw new Error(`redis-server exited with ${proc.child.exitCode}: ${proc.stderr().slice(-500)}`);
    try {
      const c = await connectRedis(port);
      try {
        if ((await c.ping()) === 'PONG') return { proc, port };
      } finally {
        c.disconnect();
      }
    } catch {
      /* not listening yet */
    }
    await sleep(50);
  }
  await proc.stop();
  throw new Error(`redis-server on port ${port} did not answer PING within 5 s`);
}

/**
 * An ioredis client connected to 127.0.0.1:port: no reconnects and no offline queue, so a
 * server that is not there fails at once instead of being retried behind the bench's back.
 */
export async function connectRedis(port: number): Promise<Redis> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {
    /* surfaced by the command that failed */
  });
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw err;
  }
  return client;
}
