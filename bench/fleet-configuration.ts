/**
 * Fleet-wide change (issue #12 item 5): one desired-property change reaching N connected modules (1,000 in
 * the full size), three ways in the same run (bench/fleet-sides.ts):
 *
 *   (a) one Configuration through the project's provider operations (what `pulumi up` runs), with its
 *       convergence wait on the hub's metrics;
 *   (b) raw aedes publishing the same N patches (the floor);
 *   (c) N ModuleTwin provider updates with `waitForAck`, as many in flight as the engine allows.
 *
 * Each round changes the value; the time of a round is from the start of the change (the provider's check,
 * or the raw trigger) to the last module's ack landing (the hub's 204 to its reported patch). Also printed:
 * first and last patch received, and when the provider operations returned (for (a): the metrics said
 * 100 % acked, read once a second by the wait). Rounds are interleaved, order rotated, one untimed warm-up
 * round per side. Ratios per round: (b)/(a) (target ≥ 0.5: the configuration path at least half the raw
 * speed) and (c)/(a).
 *
 *   npx tsx bench/fleet-configuration.ts --modules 1000 [--rounds 5] [--parallel 16] [--only a,b,c,d]
 *   npm run bench -- fleet-configuration
 */
import { benchSizes } from './bench-options';
import { type BenchResult, printRatios, ratioFigure, say } from './bench-result';
import { configurationSide, type FleetSide, perTwinSide, type RoundTimes, rawSide } from './fleet-sides';
import { describeMachine } from './machine';
import { describeCpu } from './process-cpu';
import { median } from './stats';

export interface FleetOptions {
  modules: number;
  rounds: number;
  /** ModuleTwin updates in flight in (c); 0 = unbounded, the CLI's default `--parallel`. */
  parallel: number;
  /** Which sides to run (diagnostics: one side alone); ratios need a and b, or a and c. */
  /** d (diagnostic, not by default): (a) without `waitForConvergence`, what the wait's polls cost the acks. */
  only: ReadonlySet<SideKey>;
}

type SideKey = 'a' | 'b' | 'c' | 'd';

const INITIAL_VALUE = 1;

function describeRound(r: RoundTimes, raw: boolean): string {
  const done = raw
    ? `published ${r.providerDone.toFixed(0)}`
    : `provider returned ${r.providerDone.toFixed(0)}`;
  const missing = r.missingAcks > 0 ? `, ${r.missingAcks} ACKS MISSING` : '';
  return (
    `first patch ${r.firstPatch.toFixed(0)}, last patch ${r.lastPatch.toFixed(0)}, ` +
    `last ack ${r.lastAck.toFixed(0)}, ${done} ms${missing}; CPU ${describeCpu(r.cpu, 1, 'ms')}`
  );
}

function describeSide(label: string, rounds: RoundTimes[], raw: boolean, modules: number): string[] {
  const m = (pick: (r: RoundTimes) => number) => median(rounds.map(pick)).toFixed(0);
  const cpu = Object.keys(rounds[0]?.cpu ?? {})
    .map((name) => `${name} ${(median(rounds.map((r) => r.cpu[name]!)) / modules).toFixed(3)} ms`)
    .join(', ');
  return [
    `  ${label}: median last ack ${m((r) => r.lastAck)} ms, last patch ${m((r) => r.lastPatch)} ms, ` +
      `${raw ? 'published' : 'provider returned'} ${m((r) => r.providerDone)} ms; CPU per module ${cpu}`,
    ...rounds.flatMap((r, i) => [
      `    round ${i + 1}: ${describeRound(r, raw)}`,
      ...(r.calls ? [`      calls (sent–answered, ms): ${r.calls}`] : []),
    ]),
  ];
}

export async function runFleetConfiguration(o: FleetOptions = defaultOptions()): Promise<BenchResult> {
  say(
    `fleet-configuration: one change to ${o.modules} connected modules (tags.ring='0'); ${o.rounds} interleaved rounds; ` +
      `per-twin parallel ${o.parallel > 0 ? o.parallel : 'unbounded'}; sides ${[...o.only].join(', ')}`,
  );
  const sides = new Map<SideKey, FleetSide>();
  const results = new Map<SideKey, RoundTimes[]>();
  let value = INITIAL_VALUE;
  try {
    const started = Date.now();
    if (o.only.has('b')) sides.set('b', await rawSide(o.modules));
    if (o.only.has('a')) sides.set('a', await configurationSide(o.modules, INITIAL_VALUE));
    if (o.only.has('d')) sides.set('d', await configurationSide(o.modules, INITIAL_VALUE, false));
    if (o.only.has('c')) sides.set('c', await perTwinSide(o.modules, INITIAL_VALUE, o.parallel));
    say(
      `  set-up (identities, ${sides.size * o.modules} connections, initial value): ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    const order = [...sides.keys()];
    value += 1;
    for (const key of order) await sides.get(key)!.round(value); // warm-up, not recorded
    for (const key of order) results.set(key, []);
    for (let round = 0; round < o.rounds; round++) {
      value += 1;
      for (let i = 0; i < order.length; i++) {
        const key = order[(i + round) % order.length]!;
        results.get(key)!.push(await sides.get(key)!.round(value));
      }
    }
  } finally {
    for (const side of sides.values()) await side.close();
  }
  for (const [key, side] of sides) {
    for (const line of describeSide(`(${key}) ${side.label}`, results.get(key)!, key === 'b', o.modules))
      say(line);
  }

  const a = results.get('a');
  const b = results.get('b');
  const c = results.get('c');
  const ratios = [];
  if (a && c) {
    ratios.push(
      ratioFigure(
        'fleet-configuration.provider-twins-vs-config',
        c.map((r, i) => r.providerDone / a[i]!.providerDone),
        null,
        'diagnostic: per-twin provider updates returned / configuration provider returned',
      ),
      ratioFigure(
        'fleet-configuration.twins-vs-config',
        c.map((r, i) => r.lastAck / a[i]!.lastAck),
        null,
        `${o.modules} ModuleTwin updates / one Configuration, time to the last ack`,
      ),
    );
  }
  const d = results.get('d');
  if (a && d) {
    ratios.push(
      ratioFigure(
        'fleet-configuration.without-wait',
        d.map((r, i) => r.lastAck / a[i]!.lastAck),
        null,
        'diagnostic: configuration without waitForConvergence / with it, time to the last ack',
      ),
    );
  }
  if (a && b) {
    ratios.push(
      ratioFigure(
        'fleet-configuration.config-vs-raw',
        b.map((r, i) => r.lastAck / a[i]!.lastAck),
        { direction: 'at-least', value: 0.5 },
        'raw aedes time / configuration time, to the last ack (speed of the configuration path vs the floor)',
      ),
    );
  }
  const result: BenchResult = { benchmark: 'fleet-configuration', ratios, notes: [] };
  const missing = [...results.values()].flat().reduce((sum, r) => sum + r.missingAcks, 0);
  if (missing > 0) result.notes.push(`fleet-configuration: ${missing} acks missing (rounds timed out)`);
  printRatios(result);
  return result;
}

function defaultOptions(): FleetOptions {
  const sizes = benchSizes();
  return {
    modules: sizes.fleetModules,
    rounds: sizes.fleetRounds,
    parallel: 0,
    only: new Set(['a', 'b', 'c']),
  };
}

/** `--modules N --rounds R --parallel P --only a,c` over the defaults. */
export function parseFleetArgs(
  args: readonly string[],
  defaults: FleetOptions = defaultOptions(),
): FleetOptions {
  const o = { ...defaults };
  for (let i = 0; i < args.length; i += 2) {
    const [flag, text] = [args[i], args[i + 1] ?? ''];
    const n = Number(text);
    if (flag === '--modules' && Number.isInteger(n) && n > 0) o.modules = n;
    else if (flag === '--rounds' && Number.isInteger(n) && n > 0) o.rounds = n;
    else if (flag === '--parallel' && Number.isInteger(n) && n >= 0) o.parallel = n;
    else if (flag === '--only' && /^[abcd](,[abcd])*$/.test(text))
      o.only = new Set(text.split(',') as SideKey[]);
    else
      throw new Error(
        `unknown or invalid argument ${flag} ${text}; valid: --modules N --rounds R --parallel P --only a,b,c,d`,
      );
  }
  return o;
}

if (require.main === module) {
  say(describeMachine());
  runFleetConfiguration(parseFleetArgs(process.argv.slice(2))).catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  });
}
