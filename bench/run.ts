/** `npm run bench`: every suite in bench/suites, one table, bench-results.json. */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Metrics, round, type Suite, type Target } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];

const main = async (): Promise<void> => {
  const files = readdirSync(join(here, 'suites'))
    .filter((f) => f.endsWith('.ts'))
    .sort();
  const metrics: Metrics = {};
  const targets: Target[] = [];
  for (const file of files) {
    const suite = (await import(pathToFileURL(join(here, 'suites', file)).href)).default as Suite;
    if (only && suite.name !== only) continue;
    process.stderr.write(`running ${suite.name} …\n`);
    Object.assign(metrics, await suite.run());
    targets.push(...(suite.targets ?? []));
  }
  // A single suite (`npm run bench -- vend`) updates its own metrics and keeps the others'.
  const resultsPath = join(here, '..', 'bench-results.json');
  const previous =
    only && existsSync(resultsPath)
      ? ((JSON.parse(readFileSync(resultsPath, 'utf8')) as { metrics?: Metrics }).metrics ?? {})
      : {};
  writeFileSync(resultsPath, `${JSON.stringify({ metrics: { ...previous, ...metrics } }, null, 2)}\n`);
  const rows = Object.entries(metrics).map(([name, value]) => {
    const target = targets.find((t) => t.metric === name);
    const met = target ? (target.op === '<=' ? value <= target.value : value >= target.value) : undefined;
    return {
      metric: name,
      value: round(value),
      target: target ? `${target.op} ${target.value}` : '',
      met: met === undefined ? '' : met ? 'yes' : 'NO',
    };
  });
  console.table(rows);
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
