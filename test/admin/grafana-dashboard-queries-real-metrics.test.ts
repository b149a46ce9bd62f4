import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../fixtures/daemon.js';
import { eventually, startCluster } from '../fixtures/cluster.js';
import { freeTcpPort, scrape, type Exposition } from '../fixtures/admin.js';

// contrib/grafana/pdsm.json must only query what the daemons export: every metric name in
// every panel's expression (and the template variable's query) has a `# TYPE` in a real
// master's or remote's /metrics, histogram suffixes only on histograms, and every label the
// queries group or filter by is a label of that metric.
interface Dashboard {
  panels: { title: string; targets?: { expr: string }[] }[];
  templating: { list: { name: string; query?: { query: string } | string }[] };
}

const dashboard = JSON.parse(readFileSync(join(ROOT, 'contrib/grafana/pdsm.json'), 'utf8')) as Dashboard;
const METRIC = /\b(?:pdsm|process|nodejs)_[a-z0-9_]+\b/g;
/** Labels Prometheus adds or that histograms carry themselves. */
const INTRINSIC = new Set(['instance', 'job', 'le']);

t.test("every metric and label the Grafana dashboard queries exists in a real daemon's /metrics", async (t) => {
  const [masterPort, remotePort] = [await freeTcpPort(), await freeTcpPort()];
  const c = await startCluster({
    remotes: 1,
    intervalMs: 50,
    masterArgs: ['--metrics', `127.0.0.1:${masterPort}`],
    remoteArgs: ['--metrics', `127.0.0.1:${remotePort}`],
  });
  t.teardown(() => c.destroy());
  // Data in both directions, so the per-flow series have samples.
  c.attachMaster().moSlice(0).writeBigUInt64LE(1n, 0);
  c.attachRemote(0).ro.writeBigUInt64LE(2n, 0);
  let expositions: Exposition[] = [];
  const ready = await eventually(
    () => {
      void Promise.all([scrape(masterPort), scrape(remotePort)]).then((r) => (expositions = r.map((x) => x.body)));
      return (
        expositions.length === 2 &&
        (expositions[0]!.get('pdsm_rtt_seconds_count') ?? 0) > 0 &&
        expositions.every((e) => e.samples.some((s) => s.name === 'pdsm_page_bytes_total' && s.value > 0))
      );
    },
    15_000,
    100,
  );
  t.ok(ready, 'the master exported round trips, and both daemons page bytes');

  const typeOf = (family: string): string | undefined => expositions.map((e) => e.types.get(family)).find((x) => x !== undefined);
  const labelsOf = (name: string): Set<string> =>
    new Set(expositions.flatMap((e) => e.samples.filter((s) => s.name === name).flatMap((s) => Object.keys(s.labels))));
  const hasSamples = (name: string): boolean => expositions.some((e) => e.samples.some((s) => s.name === name));

  const queries: { where: string; expr: string }[] = [];
  for (const p of dashboard.panels) for (const target of p.targets ?? []) queries.push({ where: `panel "${p.title}"`, expr: target.expr });
  for (const v of dashboard.templating.list) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    if (q) queries.push({ where: `variable $${v.name}`, expr: q });
  }
  t.ok(queries.length >= 20, `the dashboard has ${queries.length} queries`);

  const checked = new Set<string>();
  for (const { where, expr } of queries) {
    const names = [...new Set(expr.match(METRIC) ?? [])];
    t.ok(names.length > 0, `${where} queries a PDSM or process metric`);
    const labels = new Set<string>();
    for (const m of expr.matchAll(/\bby \(([^)]*)\)/g)) for (const l of m[1]!.split(',')) labels.add(l.trim());
    for (const m of expr.matchAll(/\{([^}]*)\}/g)) for (const l of m[1]!.matchAll(/([a-z_]+)\s*=~?/g)) labels.add(l[1]!);
    for (const name of names) {
      const suffix = /_(bucket|sum|count)$/.exec(name);
      const family = suffix && typeOf(name.slice(0, -suffix[0].length)) === 'histogram' ? name.slice(0, -suffix[0].length) : name;
      const type = typeOf(family);
      if (!checked.has(name)) {
        t.ok(type, `${name} (${where}) is exported${type ? ` as a ${type}` : ''}`);
        if (suffix && family === name) t.fail(`${name} (${where}) has a histogram suffix but is not a histogram`);
        checked.add(name);
      }
      if (!hasSamples(name)) {
        t.comment(`${name} has no samples in this run (${where}); its labels are not checked`);
        continue;
      }
      const have = labelsOf(name);
      for (const l of labels) if (!INTRINSIC.has(l)) t.ok(have.has(l), `${name} has the label "${l}" that ${where} uses`);
    }
  }
});
