import t from 'tap';
import { freeUdpPort } from '../fixtures/cluster.js';
import { freeTcpPort, scrape } from '../fixtures/admin.js';
import { testPlace } from '../fixtures/daemon.js';
import { writeKey } from '../fixtures/keys.js';
import { host, win32, type Platform } from '../fixtures/portability/platforms.js';
import { BIN, eventuallyAsync, WindowsKit } from '../fixtures/portability/processes.js';

// issue 15: what windows-daemons.test.ts does not cover on Windows: the broadcast segment
// (unicast fan-out and IPv4 multicast on lo), a pre-shared key on both sides, and the
// Prometheus endpoint of the Windows daemon, each in both directions (Windows master with a
// Linux remote, and the other way round).
const win = win32();
const kit = new WindowsKit((fn) => t.teardown(fn), 'pdsm-winbc-');
const { agents } = kit;

const group = (): string => `239.${Math.floor(Math.random() * 200) + 20}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 1}`;

if (typeof win === 'string') {
  t.test('BC, PSK and metrics of the daemons on Windows under Wine', { skip: win }, () => {});
} else {
  for (const bc of ['unicast', 'multicast'] as const) {
    for (const [masterOn, remoteOn] of [
      [win, host],
      [host, win],
    ] as const) {
      t.test(
        `with a PSK and ${bc} BC, a ${masterOn.name} master and a ${remoteOn.name} remote carry MO, RO and BC; the Windows daemon serves metrics`,
        async (t) => {
          const place = testPlace(1);
          const port = await freeUdpPort(4);
          const metricsPort = await freeTcpPort();
          const key = writeKey(place.dir).path;
          const common = (p: Platform): string[] => ['-d', p.path(place.dir), '-k', place.key, '-P', String(port), '-i', '50', '--psk-file', p.path(key)];
          const metrics = (p: Platform): string[] => (p === win ? ['--metrics', `127.0.0.1:${metricsPort}`] : []);
          const mc =
            bc === 'multicast'
              ? { master: ['-m', group(), '--multicast-if', '127.0.0.1'], remote: ['--multicast-if', '127.0.0.1'] }
              : { master: [], remote: [] };
          const { start, attached } = kit.group((fn) => t.teardown(fn), place);

          const master = start(masterOn, BIN.master, [...common(masterOn), '-p', '1', '-b', '4096', '-L', '127.0.0.1', ...mc.master, ...metrics(masterOn)]);
          await master.waitFor(/running/);
          t.match(
            master.output(),
            bc === 'multicast' ? /broadcast segment .*mode="multicast / : /broadcast segment .*mode="unicast fan-out"/,
            `the master sends BC by ${bc}`,
          );
          const remote = start(remoteOn, BIN.remote, [...common(remoteOn), '-n', '0', '-H', '127.0.0.1', ...mc.remote, ...metrics(remoteOn)]);
          await remote.waitFor(/joined master/);
          await remote.waitFor(/registry written/);
          t.match(remote.output(), /datagrams are authenticated and encrypted/, 'the remote seals its datagrams with the key');
          const { onMaster, onRemote } = await agents.attachPair(masterOn, remoteOn, place.dir, 0, attached);

          const mo = 0x1122334455667788n;
          const ro = 0x0a0b0c0d0e0f1011n;
          const bcValue = 0x5a5b5c5d5e5f6061n;
          await onMaster.store('MO', 8, 8, mo);
          await onRemote.store('RO', 16, 8, ro);
          await onMaster.store('BC', 24, 8, bcValue);
          t.ok(await eventuallyAsync(async () => (await onRemote.load('MO', 8, 8)) === mo), 'MO: the remote reads what the master stored');
          t.ok(await eventuallyAsync(async () => (await onMaster.load('RO', 16, 8)) === ro), 'RO: the master reads what the remote stored');
          t.ok(await eventuallyAsync(async () => (await onRemote.load('BC', 24, 8)) === bcValue), `BC (${bc}): the remote reads what the master stored`);

          // The Windows daemon's /metrics, scraped from the host over loopback.
          const body = (await scrape(metricsPort)).body;
          const winIsMaster = masterOn === win;
          const applied = winIsMaster
            ? body.get('pdsm_flow_batches_total', { peer: '0', flow: 'ro', direction: 'in' })
            : body.get('pdsm_flow_batches_total', { peer: 'master', flow: 'mo', direction: 'in' });
          t.ok((applied ?? 0) >= 1, `the Windows ${winIsMaster ? 'master' : 'remote'}'s metrics count the batches it applied (${applied})`);
          const drops = body.samples.filter((x) => x.name === 'pdsm_dropped_datagrams_total' && x.value > 0).map((x) => `${x.labels.reason}=${x.value}`);
          t.equal(
            body.get('pdsm_dropped_datagrams_total', { reason: 'auth-auth' }) ?? 0,
            0,
            `and no datagram failed authentication (drops: ${drops.join(' ') || 'none'}; logs:\n${master.output()}\n${remote.output()})`,
          );
        },
      );
    }
  }
}
