/**
 * The control socket: a UNIX stream socket beside the registry file through which
 * `pdsm status` and `pdsm top` ask a running daemon for its DaemonReport.
 *
 * Protocol (README "Control socket"): the client writes one JSON object per line,
 * `{"cmd":"status"}\n` or `{"cmd":"flush","flow":"mo","client":3}\n`; the daemon answers
 * each line with one JSON line, the report, the flush results (once the flows were scanned
 * and their datagrams queued), or `{"error":"..."}` for a request it does not take. A
 * request's `id` (a number or string) comes back in its answer: flushes on one connection
 * may be answered out of order. Requests are bounded (4 KiB per line, 16 connections, 10 s
 * idle, 4096 flushes outstanding per connection), and nothing a client sends can crash the
 * daemon.
 *
 * The socket file: `<registry dir>/pdsm_master.sock` or `pdsm_remote_<n>.sock`, with the
 * segments' --mode minus the world-write bit (connecting to a UNIX socket needs write
 * permission, so others can never talk to the daemon). A stale socket (nobody listening,
 * e.g. after SIGKILL) is replaced at start; a symlink or anything but a socket is refused
 * and left alone; a clean stop removes the socket it made.
 *
 * On Windows the endpoint is a named pipe (src/platform.ts names it): there is no file to
 * clear, secure or remove, and a pipe vanishes with the process that serves it. A name that
 * another process serves still means another daemon runs (PDSM_ERR_ALREADY_RUNNING). libuv
 * creates the pipe with no security attributes, so it gets Windows' default descriptor: full
 * control for the daemon's user, SYSTEM and the Administrators, and read access for Everyone
 * and the anonymous account (others can open it read-only but never send a request). Node
 * offers no way to narrow it (README "Platforms" says what that means).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { lstatSync, unlinkSync, chmodSync } from 'node:fs';
import { PdsmError } from '../errors.js';
import type { Logger } from '../log.js';
import { platform } from '../platform.js';
import { MAX_REMOTES } from '../segments/layout.js';
import type { DaemonReport } from './status-report.js';
import type { FlushRequest, FlushResult } from './flush-gate.js';
import { checkAnswer, connectionError } from './control-client.js';

/** Longest request line; a status request is 16 bytes. */
export const MAX_REQUEST_BYTES = 4096;
/** Connections served at once; more are refused by the kernel backlog / closed. */
export const MAX_CONNECTIONS = 16;
/** Answers a client may leave unread before it is cut off. */
export const MAX_UNREAD_BYTES = 4 << 20;
/** A connection that sends nothing for this long is closed. */
export const IDLE_MS = 10_000;
/** Flushes one connection may have waiting for their scans; more are refused. */
export const MAX_PENDING_FLUSHES = 4096;

/** Where the control socket of the master (no client id) or of remote n lives (Windows: a pipe name). */
export function controlSocketPath(registryDir: string, clientId?: number): string {
  return platform.controlPath(registryDir, clientId);
}

/** The socket's permission bits: the segments' mode, never world-writable. */
export function controlSocketMode(mode: number): number {
  return mode & 0o775;
}

export interface ControlRequest {
  cmd: string;
  [field: string]: unknown;
}

/** What the control socket serves: the daemon's report and flush on demand (src/daemon/service.ts Service). */
export interface ControlHandlers {
  report(): DaemonReport;
  flush(request: FlushRequest): Promise<FlushResult[]>;
}

const FLOWS = ['mo', 'bc', 'ro'] as const;

/** The fields of a flush request, checked; a string says what is wrong. */
export function parseFlush(r: Record<string, unknown>): FlushRequest | string {
  const request: FlushRequest = { wait: true };
  if (r.flow !== undefined) {
    if (!FLOWS.includes(r.flow as never)) return `flow must be "mo", "bc" or "ro", got ${JSON.stringify(r.flow)}`;
    request.flow = r.flow as FlushRequest['flow'] & string;
  }
  if (r.client !== undefined) {
    if (!Number.isInteger(r.client) || (r.client as number) < 0 || (r.client as number) > MAX_REMOTES - 1)
      return `client must be an integer 0..${MAX_REMOTES - 1}, got ${JSON.stringify(r.client)}`;
    request.client = r.client as number;
  }
  if (r.wait !== undefined) {
    if (typeof r.wait !== 'boolean') return `wait must be true or false, got ${JSON.stringify(r.wait)}`;
    request.wait = r.wait;
  }
  return request;
}

/**
 * Answer one request line: parsing and dispatch, no I/O. A status answer is a string at once;
 * a flush answer comes when the flows were scanned (or at once with "wait": false).
 */
export function answer(line: string, handlers: ControlHandlers): string | Promise<string> {
  let request: unknown;
  try {
    request = JSON.parse(line);
  } catch {
    return JSON.stringify({ error: 'request is not JSON' });
  }
  const r = typeof request === 'object' && request !== null && !Array.isArray(request) ? (request as Record<string, unknown>) : {};
  const id = typeof r.id === 'number' || typeof r.id === 'string' ? { id: r.id } : {};
  const fail = (why: string): string => JSON.stringify({ ...id, error: why });
  if (r.cmd === 'flush') {
    const parsed = parseFlush(r);
    if (typeof parsed === 'string') return fail(parsed);
    try {
      return handlers.flush(parsed).then(
        (flushed) => JSON.stringify({ ...id, flushed }),
        (err: Error) => fail(err.message),
      );
    } catch (err) {
      return fail((err as Error).message);
    }
  }
  if (r.cmd !== 'status') return fail(`unknown command ${JSON.stringify(r.cmd ?? null)} (status, flush)`);
  try {
    return JSON.stringify({ ...handlers.report(), ...id });
  } catch (err) {
    return fail(`report failed: ${(err as Error).message}`);
  }
}

/** Is anyone listening on the socket at `path`? */
function listening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Make room for the socket: nothing there is fine, a stale socket is removed, a live one
 * means another daemon answers here, and anything else is not ours to touch.
 */
async function clearPath(path: string): Promise<void> {
  if (platform.namedPipes) {
    if (await listening(path)) throw new PdsmError('PDSM_ERR_ALREADY_RUNNING', `control pipe ${path} is served by another process`);
    return;
  }
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new PdsmError('PDSM_ERR_REGISTRY', `control socket ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (st.isSymbolicLink()) throw new PdsmError('PDSM_ERR_REGISTRY', `control socket ${path} is a symlink; refusing to follow or replace it`);
  if (!st.isSocket()) throw new PdsmError('PDSM_ERR_REGISTRY', `control socket ${path} exists and is not a socket; refusing to replace it`);
  if (await listening(path)) throw new PdsmError('PDSM_ERR_ALREADY_RUNNING', `control socket ${path} is answered by another process`);
  unlinkSync(path);
}

/**
 * `-r`: remove the control socket a killed daemon left behind. A socket someone still
 * listens on, a symlink or anything but a socket is left alone. True if removed.
 */
export async function removeStaleControlSocket(path: string): Promise<boolean> {
  if (platform.namedPipes) return false; // a pipe is gone with its server: nothing stays behind
  try {
    const st = lstatSync(path);
    if (!st.isSocket() || (await listening(path))) return false;
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

export class ControlServer {
  readonly path: string;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** Inode of the socket we made: close() removes that one and nothing else. */
  #ino: number | undefined;
  #closed = false;

  private constructor(path: string, server: Server) {
    this.path = path;
    this.#server = server;
  }

  static async start(path: string, mode: number, handlers: ControlHandlers, log: Logger): Promise<ControlServer> {
    await clearPath(path);
    const server = createServer({ allowHalfOpen: false });
    const control = new ControlServer(path, server);
    server.maxConnections = MAX_CONNECTIONS;
    server.on('connection', (socket) => control.#serve(socket, handlers, log));
    // The socket is created with the umask's bits; a tight umask during bind means no
    // moment where it is wider than asked, then chmod gives exactly the mode.
    const bound = new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', () => {
        server.off('error', reject);
        resolve();
      });
    });
    // bind(2) happens inside listen(), synchronously, so the umask is back at once.
    const old = process.umask(0o177);
    try {
      server.listen(path);
    } finally {
      process.umask(old);
    }
    try {
      await bound;
    } catch (err) {
      throw new PdsmError('PDSM_ERR_NETWORK', `cannot listen on control socket ${path}: ${(err as Error).message}`, { cause: err });
    }
    server.on('error', (err) => log.warn('control socket error', { path, error: err.message }));
    if (platform.namedPipes) {
      log.info('control pipe', { path });
      return control;
    }
    try {
      chmodSync(path, controlSocketMode(mode));
      control.#ino = lstatSync(path).ino;
    } catch (err) {
      await control.close();
      throw new PdsmError('PDSM_ERR_NETWORK', `cannot set permissions of control socket ${path}: ${(err as Error).message}`, { cause: err });
    }
    log.info('control socket', { path, mode: `0${controlSocketMode(mode).toString(8)}` });
    return control;
  }

  #serve(socket: Socket, handlers: ControlHandlers, log: Logger): void {
    this.#sockets.add(socket);
    socket.setEncoding('utf8');
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    socket.on('error', () => undefined); // a client that goes away mid-answer is its business
    socket.on('close', () => this.#sockets.delete(socket));
    let buffered = '';
    let pending = 0;
    const reply = (text: string): void => {
      if (!socket.destroyed) socket.write(text + '\n');
    };
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (socket.destroyed) return;
        // A client that asks faster than it reads is cut off rather than buffered without end.
        if (socket.writableLength > MAX_UNREAD_BYTES) {
          socket.destroy();
          return;
        }
        if (line === '') continue;
        if (pending >= MAX_PENDING_FLUSHES) {
          reply(JSON.stringify({ error: `${MAX_PENDING_FLUSHES} flushes are outstanding on this connection; wait for their answers` }));
          continue;
        }
        const a = answer(line, handlers);
        if (typeof a === 'string') reply(a);
        else {
          pending++;
          void a.then((text) => {
            pending--;
            reply(text);
          });
        }
      }
      if (buffered.length > MAX_REQUEST_BYTES) {
        log.debug('control request too long; closing', { bytes: buffered.length });
        buffered = '';
        socket.removeAllListeners('data');
        socket.end(JSON.stringify({ error: `request longer than ${MAX_REQUEST_BYTES} bytes` }) + '\n', () => socket.destroy());
      }
    });
  }

  /** Stop answering and remove the socket file (only if it is still the one we made). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#sockets) s.destroy();
    // Node unlinks a pipe server's path on close; make sure, without touching a file
    // that someone put there after us.
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    if (platform.namedPipes) return;
    try {
      const st = lstatSync(this.path);
      if (st.isSocket() && st.ino === this.#ino) unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Ask the daemon at `path` for one answer (client side of the protocol). A daemon that
 * is not running is a PDSM_ERR_NETWORK error naming the socket.
 */
export function queryControl(path: string, request: ControlRequest, timeoutMs = 3000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let text = '';
    let done = false;
    const finish = (err: Error | undefined, value?: unknown): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => finish(new PdsmError('PDSM_ERR_NETWORK', `no answer from the daemon on ${path} within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(JSON.stringify(request) + '\n'));
    socket.on('data', (chunk: string) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      let value: unknown;
      try {
        value = JSON.parse(text.slice(0, nl)) as unknown;
      } catch {
        return finish(new PdsmError('PDSM_ERR_NETWORK', `the daemon on ${path} sent an answer that is not JSON`));
      }
      try {
        finish(undefined, checkAnswer(path, value));
      } catch (err) {
        finish(err as Error);
      }
    });
    socket.on('end', () => finish(new PdsmError('PDSM_ERR_NETWORK', `the daemon on ${path} closed the connection without an answer`)));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(connectionError(path, err)));
  });
}

/** `{"cmd":"status"}` against the daemon at `path`. */
export async function queryStatus(path: string, timeoutMs?: number): Promise<DaemonReport> {
  return (await queryControl(path, { cmd: 'status' }, timeoutMs)) as DaemonReport;
}
