/**
 * The options both daemons share: the seed's (-h -r -s -y) and the extensions of docs/design.md §4,
 * parsed with one `arg` table per tool and validated up front, before anything is created.
 */
import arg from 'arg';
import { exitCodeFor, usageError, PdsmError } from '../errors.js';
import { LOG_LEVELS } from '../log.js';
import { DEFAULT_KEY_BASE, MAX_KEY_BASE, roundSegmentSize } from '../segments/layout.js';
import { registryDir } from '../segments/registry.js';
import { NAMESPACE_CHOICES } from '../segments/namespace.js';
import type { CommonConfig, DaemonConfig } from '../daemon/config.js';
import { removeDaemon, runDaemon } from '../daemon/run.js';
import { parseAddress, parseChoice, parseFamily, parseHostPort, parseInteger, parseKey, parseMode, parsePageSize, parseSize, parseWordSize } from './values.js';

/** Largest slice (-s) and broadcast (-b) size: 1 GiB. */
export const MAX_SEGMENT_SIZE = 1024 ** 3;
export const DEFAULTS = {
  size: 4096,
  intervalMs: 2000,
  port: 31415,
  wordSize: 8,
  pageSize: 1024,
  mtu: 1200,
  mode: 0o666,
  ttl: 1,
} as const;

/** The end of both daemons' help screens: the options and environment they share. */
export const COMMON_HELP_TAIL = `  -w, --word-size bytes      word size of the network-neutral form: 1, 2, 4 or 8 (default 8);
                             across byte orders only values exactly this wide and aligned
                             read the same (spec §5.3), so store u32 values with -w 4
      --page-size bytes      replication page: a power of two, 512..65536 (default 1024)
      --mtu bytes            largest datagram payload, 576..65507 (default 1200)
      --digest-interval ms   period of the page-hash digest that finds divergence (default 30000)
      --flush-min-ms ms      at most one flush-on-demand scan per flow per this many ms,
                             0..60000 (default 1; README "Flush on demand")
      --psk-file path        pre-shared key file: authenticate and encrypt every datagram
      --metrics [host:]port  serve Prometheus metrics over HTTP (default host 127.0.0.1)
      --mode mode            permissions of segments and registry files (default 0666)
      --namespace ns         Windows only: mappings in Global\\ (global), Local\\ (local), or
                             auto: Global\\ when allowed (SeCreateGlobalPrivilege), else
                             Local\\ (default); the registry file says which. Ignored on POSIX
      --log-level level      error, warn, info or debug (default info)

Environment:
  PDSM_REGISTRY_DIR          registry folder when -d is not given
  PDSM_DEBUG                 wire tracing, e.g. PDSM_DEBUG='pdsm:*'

Exit status: 0 ok, 1 runtime failure, 2 usage error.
`;

export const COMMON_SPEC = {
  '--help': Boolean,
  '-h': '--help',
  '--remove': Boolean,
  '-r': '--remove',
  '--size': String,
  '-s': '--size',
  '-y': String,
  '--interval': String,
  '-i': '--interval',
  '--port': String,
  '-P': '--port',
  '--key': String,
  '-k': '--key',
  '--registry-dir': String,
  '-d': '--registry-dir',
  '--word-size': String,
  '-w': '--word-size',
  '--page-size': String,
  '--mtu': String,
  '--psk-file': String,
  '--metrics': String,
  '--mode': String,
  '--log-level': String,
  '--listen': String,
  '-L': '--listen',
  '--multicast-if': String,
  '--digest-interval': String,
  '--flush-min-ms': String,
  '--namespace': String,
} as const;

type Spec = Record<string, StringConstructor | BooleanConstructor | string>;

/** Run `arg` and turn its errors into usage errors that name the option. */
export function parseArgs<S extends Spec>(spec: S, argv: string[]): arg.Result<S> {
  try {
    return arg(spec, { argv, permissive: false });
  } catch (err) {
    if (err instanceof arg.ArgError) {
      const m = /(-{1,2}[\w-]+)/.exec(err.message);
      const option = m?.[1] ?? '';
      switch (err.code) {
        case 'ARG_UNKNOWN_OPTION':
          throw usageError(`unknown option ${option}`);
        case 'ARG_MISSING_REQUIRED_SHORTARG':
        case 'ARG_MISSING_REQUIRED_LONGARG':
          throw usageError(`option ${option} needs a value (a value starting with "-" is not taken; sizes cannot be negative)`);
        default:
          throw usageError(err.message);
      }
    }
    throw err;
  }
}

/** Stray words after the options are a usage error too. */
export function rejectPositionals(rest: string[]): void {
  if (rest.length > 0) throw usageError(`unexpected argument "${rest[0]}"`);
}

type CommonArgs = arg.Result<typeof COMMON_SPEC>;

/** Validate the shared options; the role-specific ones are the caller's. */
export function commonConfig(a: CommonArgs, env: NodeJS.ProcessEnv): CommonConfig {
  const family = parseFamily('-y', a['-y']);
  const pageSize = a['--page-size'] === undefined ? DEFAULTS.pageSize : parsePageSize('--page-size', a['--page-size']);
  const wordSize = a['--word-size'] === undefined ? DEFAULTS.wordSize : parseWordSize('-w/--word-size', a['--word-size']);
  const requestedSize = a['--size'] === undefined ? DEFAULTS.size : parseSize('-s/--size', a['--size'], MAX_SEGMENT_SIZE);
  const config: CommonConfig = {
    family,
    requestedSize,
    segSize: roundSegmentSize(requestedSize, pageSize),
    intervalMs: a['--interval'] === undefined ? DEFAULTS.intervalMs : parseInteger('-i/--interval', a['--interval'], 1, 3_600_000),
    port: a['--port'] === undefined ? DEFAULTS.port : parseInteger('-P/--port', a['--port'], 1, 65535),
    keyBase: a['--key'] === undefined ? DEFAULT_KEY_BASE : parseKey('-k/--key', a['--key'], MAX_KEY_BASE),
    registryDir: registryDir(a['--registry-dir'], env),
    wordSize,
    pageSize,
    mtu: a['--mtu'] === undefined ? DEFAULTS.mtu : parseInteger('--mtu', a['--mtu'], 576, 65507),
    mode: a['--mode'] === undefined ? DEFAULTS.mode : parseMode('--mode', a['--mode']),
    logLevel: a['--log-level'] === undefined ? 'info' : parseChoice('--log-level', a['--log-level'], LOG_LEVELS),
  };
  if (config.registryDir === '') throw usageError('-d/--registry-dir: empty folder name');
  if (a['--psk-file'] !== undefined) {
    if (a['--psk-file'] === '') throw usageError('--psk-file: empty file name');
    config.pskFile = a['--psk-file'];
  }
  if (a['--digest-interval'] !== undefined) config.digestMs = parseInteger('--digest-interval', a['--digest-interval'], 100, 86_400_000);
  if (a['--flush-min-ms'] !== undefined) config.flushMinMs = parseInteger('--flush-min-ms', a['--flush-min-ms'], 0, 60_000);
  if (a['--namespace'] !== undefined) config.namespace = parseChoice('--namespace', a['--namespace'], NAMESPACE_CHOICES);
  if (a['--metrics'] !== undefined) config.metrics = parseHostPort('--metrics', a['--metrics']);
  if (a['--listen'] !== undefined) config.listen = parseAddress('-L/--listen', a['--listen']);
  if (a['--multicast-if'] !== undefined) config.multicastIf = parseAddress('--multicast-if', a['--multicast-if']);
  if (config.listen !== undefined && (config.listen.includes(':') ? 6 : 4) !== family) {
    throw usageError(`-L/--listen: ${config.listen} is not an IPv${family} address${family === 4 ? ' (add -y 6 for IPv6)' : ''}`);
  }
  return config;
}

/** Write a PdsmError as the CLI reports it and return the exit code. */
export function reportError(tool: string, err: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  if (err instanceof PdsmError) {
    write(`${tool}: ${err.message}\n`);
    if (err.code === 'PDSM_ERR_USAGE') write(`Try "${tool} -h" for the options.\n`);
    return exitCodeFor(err.code);
  }
  write(`${tool}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}

/** What the arguments ask for. */
export type Parsed<C extends DaemonConfig> = { action: 'help' } | { action: 'run' | 'remove'; config: C };

/** The shared body of both daemons' main(): parse, then help, remove or run; errors to exit codes. */
export async function runTool<C extends DaemonConfig>(tool: string, help: string, parse: () => Parsed<C>): Promise<number> {
  try {
    const parsed = parse();
    if (parsed.action === 'help') {
      process.stdout.write(help);
      return 0;
    }
    return parsed.action === 'remove' ? await removeDaemon(parsed.config) : await runDaemon(parsed.config);
  } catch (err) {
    return reportError(tool, err);
  }
}
