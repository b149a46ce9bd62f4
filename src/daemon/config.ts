/**
 * The validated configuration of a daemon, as the CLI hands it over. Everything here has
 * been checked; the daemon trusts it.
 */
import type { LogLevel } from '../log.js';
import type { NamespaceChoice } from '../segments/namespace.js';

export interface CommonConfig {
  /** Address family of the network side: 4, or 6 with `-y 6`. */
  family: 4 | 6;
  /** Size of one MO/RO slice in bytes, rounded up (docs/design.md §1). */
  segSize: number;
  /** Size given with -s before rounding. */
  requestedSize: number;
  /** Scan period (-i), ms. */
  intervalMs: number;
  /** The master's UDP port (-P). */
  port: number;
  /** SysV key base (-k). */
  keyBase: number;
  registryDir: string;
  wordSize: 1 | 2 | 4 | 8;
  pageSize: number;
  mtu: number;
  pskFile?: string;
  /** The key read from pskFile, once, before anything is created (src/daemon/run.ts). */
  psk?: Buffer;
  metrics?: { host: string; port: number };
  /** Permission bits of segments and registry files (--mode). */
  mode: number;
  logLevel: LogLevel;
  /** Local address to bind (--listen); default: any address of the family. */
  listen?: string;
  multicastIf?: string;
  /** spec §7.8 Digest Period (--digest-interval), ms; default 30000. */
  digestMs?: number;
  /** --flush-min-ms: at most one flush scan per flow per this many ms (src/daemon/flush-gate.ts); default 1. */
  flushMinMs?: number;
  /** --namespace: Windows mappings in Global\ or Local\ (src/segments/namespace.ts); default auto. Ignored on POSIX. */
  namespace?: NamespaceChoice;
}

export interface MasterConfig extends CommonConfig {
  role: 'master';
  /** Number of remotes (slices): -p, or the number of Clientname lines of -g. */
  remotes: number;
  /** Clientname per client id, from -g. */
  clientNames?: string[];
  /** BC size in bytes, 0 when there is no broadcast segment. */
  broadcastSize: number;
  multicast?: { group: string; ttl: number };
}

export interface RemoteConfig extends CommonConfig {
  role: 'remote';
  clientId: number;
  masterHost: string;
}

export type DaemonConfig = MasterConfig | RemoteConfig;
