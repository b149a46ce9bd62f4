/**
 * The client side of the control socket (src/daemon/control.ts; README "Control socket") for
 * callers that ask more than once: one connection, opened on the first request and kept,
 * requests pipelined on it with an `id` each and answers matched by that id (a flush is
 * answered when its scan is done, so answers may come out of order).
 *
 * Timing: every request has its own bounded timeout; a daemon that does not answer in time is
 * a PDSM_ERR_NETWORK error naming the socket. The connection does not keep the process alive
 * while idle (unref), and the client closes it itself after CLIENT_IDLE_MS without a request,
 * before the daemon's 10 s idle cut-off, so a request never races that close. A connection
 * the daemon closed anyway (a restart) fails what was outstanding and is opened again by
 * the next request.
 */
import { createConnection, type Socket } from 'node:net';
import { PdsmError } from '../errors.js';

/** The client closes an idle connection after this long (the daemon's IDLE_MS is 10 s). */
export const CLIENT_IDLE_MS = 5000;

/** Why nobody answers on `path`, as one error for every client (status, top, flush). */
export function connectionError(path: string, err: NodeJS.ErrnoException): PdsmError {
  const why =
    err.code === 'ENOENT'
      ? 'no such socket'
      : err.code === 'ECONNREFUSED'
        ? 'nobody listens (a stale socket)'
        : err.code === 'EACCES'
          ? 'permission denied (the socket is not writable by you)'
          : err.message;
  return new PdsmError('PDSM_ERR_NETWORK', `no daemon answers on ${path}: ${why} (not running, or another -d or --client?)`, { cause: err });
}

/** An answer's `{"error": ...}` as an error naming the socket, or the answer. */
export function checkAnswer(path: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && typeof (value as { error?: unknown }).error === 'string') {
    throw new PdsmError('PDSM_ERR_NETWORK', `the daemon on ${path} refused the request: ${(value as { error: string }).error}`);
  }
  return value;
}

interface Waiting {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class ControlClient {
  readonly path: string;
  #socket: Socket | undefined;
  #text = '';
  #nextId = 1;
  readonly #waiting = new Map<number, Waiting>();
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(path: string) {
    this.path = path;
  }

  /** Send `request` (its `id` is set here) and resolve with the daemon's answer. */
  request(request: { cmd: string } & Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    const id = this.#nextId++;
    clearTimeout(this.#idleTimer);
    const socket = this.#connect();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new PdsmError('PDSM_ERR_NETWORK', `no answer from the daemon on ${this.path} within ${timeoutMs} ms`));
        this.#idle();
      }, timeoutMs);
      this.#waiting.set(id, { resolve, reject, timer });
      socket.ref();
      // The first request of a tick leaves at once (a flush is on the path from a store to
      // its visibility at the peer: it must not wait for the caller's turn to end); the
      // others of the same tick (a loop of flushes) follow in one write at its end, and the
      // daemon reads them in one turn, where they coalesce.
      const line = JSON.stringify({ ...request, id }) + '\n';
      if (socket.writableCorked === 0) {
        socket.write(line);
        socket.cork();
        process.nextTick(() => socket.uncork());
      } else socket.write(line);
    });
  }

  /** Close the connection; what is outstanding fails. Idempotent. */
  close(): void {
    this.#drop(new PdsmError('PDSM_ERR_NETWORK', `the connection to ${this.path} was closed`));
  }

  #connect(): Socket {
    if (this.#socket) return this.#socket;
    const socket = createConnection(this.path);
    this.#socket = socket;
    this.#text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.#socket === socket) this.#drop(connectionError(this.path, err));
    });
    socket.on('close', () => {
      if (this.#socket === socket) this.#drop(new PdsmError('PDSM_ERR_NETWORK', `the daemon on ${this.path} closed the connection without an answer`));
    });
    return socket;
  }

  #onData(chunk: string): void {
    this.#text += chunk;
    let nl: number;
    while ((nl = this.#text.indexOf('\n')) >= 0) {
      const line = this.#text.slice(0, nl);
      this.#text = this.#text.slice(nl + 1);
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        this.#drop(new PdsmError('PDSM_ERR_NETWORK', `the daemon on ${this.path} sent an answer that is not JSON`));
        return;
      }
      const id = (value as { id?: unknown } | null)?.id;
      const w = typeof id === 'number' ? this.#waiting.get(id) : undefined;
      if (!w) continue; // an answer whose request timed out
      this.#waiting.delete(id as number);
      clearTimeout(w.timer);
      try {
        w.resolve(checkAnswer(this.path, value));
      } catch (err) {
        w.reject(err as Error);
      }
    }
    this.#idle();
  }

  /** Nothing outstanding: the connection may stay open but must not hold the process. */
  #idle(): void {
    if (this.#waiting.size > 0 || !this.#socket) return;
    this.#socket.unref();
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => this.close(), CLIENT_IDLE_MS).unref();
  }

  #drop(err: Error): void {
    clearTimeout(this.#idleTimer);
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.destroy();
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const w of waiting) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }
}
