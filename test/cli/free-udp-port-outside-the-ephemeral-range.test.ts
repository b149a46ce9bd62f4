// The tests (and the demo) start daemons on freeUdpPort()'s port; a master with -m also
// binds port + 1. A busy-machine run of the suite failed once on "UDP port 57559 on 0.0.0.0 is
// in use": the fixture had checked only the port, and drew it from the ephemeral range, where
// any socket bound to port 0 (another test's remote) may take it or its neighbour.
import t from 'tap';
import { createSocket } from 'node:dgram';
import { ephemeralPorts, freeUdpPort } from '../../src/cli/launch.js';

async function bindBoth(port: number): Promise<string[]> {
  const errors: string[] = [];
  const sockets = [port, port + 1].map(() => createSocket('udp4'));
  await Promise.all(
    sockets.map(
      (s, i) =>
        new Promise<void>((resolve) => {
          s.once('error', (e: NodeJS.ErrnoException) => {
            errors.push(`${port + i}: ${e.code}`);
            resolve();
          });
          s.bind(port + i, '0.0.0.0', () => resolve());
        }),
    ),
  );
  await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return errors;
}

t.test('the port and the next one are free, and neither is in the ephemeral range', async (t) => {
  const [lo, hi] = ephemeralPorts();
  t.ok(lo >= 1024 && hi <= 65535 && lo <= hi, `ephemeral range ${lo}..${hi}`);
  for (let i = 0; i < 20; i++) {
    const port = await freeUdpPort();
    t.ok(port + 1 < lo || port > hi, `${port} and ${port + 1} lie outside ${lo}..${hi}`);
    t.same(await bindBoth(port), [], `${port} and ${port + 1} bind on the wildcard address`);
  }
});
