import t from 'tap';
import { writeFileSync, chmodSync, readdirSync } from 'node:fs';
import { masterKeys, remoteKeys } from '../../src/segments/layout.js';
import { findSegment } from '../../src/segments/segment.js';
import { join } from 'node:path';
import { BIN, runBin, testPlace } from '../fixtures/daemon.js';

// Every bad input exits 2 before anything is created, and the message names the option.
const place = testPlace();
t.teardown(() => place.cleanup());

const goodConfig = join(place.dir, 'clients.conf');
writeFileSync(goodConfig, 'Clientname=alpha\nClientname=beta\n');
const badConfig = join(place.dir, 'bad.conf');
writeFileSync(badConfig, 'Clientname=alpha\n# a comment\nClient name beta\n');
const unreadable = join(place.dir, 'unreadable.conf');
writeFileSync(unreadable, 'Clientname=alpha\n');
chmodSync(unreadable, 0o000);

const cases: [string, 'master' | 'remote', string[], RegExp][] = [
  ['an unknown option', 'master', ['--frobnicate'], /unknown option --frobnicate/],
  ['an unknown short option', 'remote', ['-Z'], /unknown option -Z/],
  ['a missing value', 'master', ['-s'], /option -s needs a value/],
  ['a non-numeric size', 'master', ['-s', 'lots'], /-s\/--size: "lots" is not a size/],
  ['a negative size', 'remote', ['-s', '-4096'], /option -s needs a value.*negative/],
  ['a negative size in long form', 'remote', ['--size=-4096'], /-s\/--size: "-4096" is not a size/],
  ['a zero size', 'master', ['-s', '0'], /-s\/--size: size must be greater than 0/],
  ['-y 4', 'master', ['-y', '4'], /-y: only "-y 6"/],
  ['-y 4 on the remote', 'remote', ['-y', '4'], /-y: only "-y 6"/],
  ['-p 0', 'master', ['-p', '0'], /-p\/--remotes: 0 is out of range/],
  ['-p and -g disagreeing', 'master', ['-p', '3', '-g', goodConfig], /-p 3 disagrees with -g .* names 2 client/],
  ['a malformed config file', 'master', ['-g', badConfig], /line 3: expected "Clientname=hostname"/],
  ['a missing config file', 'master', ['-g', join(place.dir, 'nope.conf')], /-g\/--config: cannot read config file .*nope\.conf/],
  ['a negative client id', 'remote', ['-n', '-1'], /option -n needs a value/],
  ['a client id past the limit', 'remote', ['-n', '16384'], /-n\/--client-id: 16384 is out of range 0\.\.16383/],
  ['a port of 0', 'master', ['-P', '0'], /-P\/--port: 0 is out of range 1\.\.65535/],
  ['a word size of 3', 'master', ['-w', '3'], /-w\/--word-size: word size must be 1, 2, 4 or 8/],
  ['a page size that is not a power of two', 'remote', ['--page-size', '1000'], /--page-size: 1000 is not a power of two/],
  ['a mode without owner write', 'master', ['--mode', '0444'], /--mode: mode 0444 must give the owner read and write/],
  ['an unknown namespace', 'remote', ['--namespace', 'Global'], /--namespace: "Global" is not one of global, local, auto/],
  ['a unicast address as a multicast group', 'master', ['-b', '4096', '-m', '10.1.2.3'], /-m\/--multicast: 10\.1\.2\.3 is not a multicast address/],
  ['an IPv6 group without -y 6', 'master', ['-b', '4096', '-m', 'ff02::1234'], /IPv6 address but the network side is IPv4/],
  ['a stray argument', 'master', ['extra'], /unexpected argument "extra"/],
];

for (const [what, role, args, message] of cases) {
  t.test(`${role} refuses ${what} with exit 2`, async (t) => {
    const r = runBin(role === 'master' ? BIN.master : BIN.remote, [...place.args, ...args]);
    t.equal(r.status, 2, r.stderr);
    t.match(r.stderr, message);
  });
}

t.test('an unreadable config file is refused with exit 2', { skip: process.getuid?.() === 0 ? 'root reads files whatever their mode' : false }, async (t) => {
  const r = runBin(BIN.master, [...place.args, '-g', unreadable]);
  t.equal(r.status, 2);
  t.match(r.stderr, /cannot read config file/);
});

t.test('a config file that is a folder is refused with exit 2', async (t) => {
  const r = runBin(BIN.master, [...place.args, '-g', place.dir]);
  t.equal(r.status, 2, r.stderr);
  t.match(r.stderr, /-g\/--config: cannot read config file/);
});

t.test('nothing was created by any refused command', async (t) => {
  t.same(
    readdirSync(place.dir).filter((f) => f.startsWith('pdsm_')),
    [],
    'no registry file',
  );
  for (const key of [...Object.values(masterKeys(place.keyBase)), ...Object.values(remoteKeys(0, place.keyBase))]) {
    t.equal(findSegment(key), undefined, `no segment with key 0x${key.toString(16)}`);
  }
});
