/**
 * A daemon's life: open and claim the segments, publish the registry file, serve until
 * SIGINT/SIGTERM, then stop the network side, detach and release (segments stay, docs/design.md §1).
 */
import { Logger, enableTracing } from '../log.js';
import { formatKey } from '../segments/segment.js';
import type { DaemonConfig } from './config.js';
import { readKeyFile } from './key-file.js';
import { openNodeSegments, registryExtras, removeNodeSegments, writeRegistry } from './node-segments.js';
import { onShutdown } from './shutdown.js';
import type { Service } from './service.js';
import { MasterService } from './master.js';
import { RemoteService } from './remote.js';
import { ControlServer, controlSocketPath, removeStaleControlSocket } from './control.js';
import type { MetricsServer } from './metrics.js';

function toolName(config: DaemonConfig): string {
  return config.role === 'master' ? 'pdsm_master' : 'pdsm_remote';
}

export async function runDaemon(config: DaemonConfig): Promise<number> {
  enableTracing();
  const log = new Logger(toolName(config), config.logLevel);
  const shutdown = onShutdown({ log });
  // Issue 19.4: the key file is opened and checked once, before any segment is created.
  if (config.pskFile !== undefined && config.psk === undefined) config.psk = readKeyFile(config.pskFile);
  const node = openNodeSegments(config);
  let service: Service | undefined;
  // The control socket (pdsm status/top) and --metrics.
  let control: ControlServer | undefined;
  let metrics: MetricsServer | undefined;
  const stopAdmin = async (): Promise<void> => {
    await Promise.all([control?.close(), metrics?.close()]);
  };
  let failure: Error | undefined;
  const fail = (err: Error): void => {
    failure = err;
    shutdown.trigger('failure');
  };
  try {
    for (const seg of [node.mo, node.ro, node.bc, node.st]) {
      if (seg) {
        const where = node.namespace ? { namespace: node.namespace } : {};
        log.info(seg.created ? 'created segment' : 're-attached segment', { segment: seg.label, key: formatKey(seg.key), size: seg.size, ...where });
      }
    }
    // The network side first: a port in use or an unresolvable master fails before the
    // registry tells applications that this node is served.
    service = config.role === 'master' ? await MasterService.start(config, node, log) : await RemoteService.start(config, node, log, fail);
    // The admin side too, so a bind failure exits 1 before the registry is written.
    const running = service;
    const clientId = config.role === 'remote' ? config.clientId : undefined;
    control = await ControlServer.start(controlSocketPath(config.registryDir, clientId), config.mode, running, log);
    // prom-client is loaded only when asked for: it costs every other start ~60 ms.
    if (config.metrics) metrics = await (await import('./metrics.js')).MetricsServer.start(config.metrics, running, log, config.role, clientId);
    await writeRegistry(config, node, registryExtras(config));
    log.info('registry written', { path: node.registryPath });
    log.info('running', { pid: process.pid });
    // Signal listeners do not keep Node's event loop alive; this timer does, until a stop.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const why = await shutdown.requested.finally(() => clearInterval(keepAlive));
    log.info('stopping', { reason: why });
    await stopAdmin();
    await service.stop();
    if (failure) throw failure;
    return process.exitCode === 1 ? 1 : 0;
  } catch (err) {
    await stopAdmin().catch(() => undefined);
    if (service && !failure) await service.stop().catch(() => undefined);
    throw err;
  } finally {
    node.close();
    shutdown.dispose();
    log.info('detached; segments left in place');
  }
}

export async function removeDaemon(config: DaemonConfig): Promise<number> {
  const log = new Logger(toolName(config), config.logLevel);
  const report = await removeNodeSegments(config);
  // A control socket left by a killed daemon goes too.
  const socket = controlSocketPath(config.registryDir, config.role === 'remote' ? config.clientId : undefined);
  if (await removeStaleControlSocket(socket)) report.removed.push(socket);
  for (const what of report.removed) log.info('removed', { what });
  if (report.removed.length === 0) log.info('nothing to remove', { keys: report.absent.filter((a) => a.includes('0x')).join(',') });
  return 0;
}
