/**
 * Diagnosis for the host path (issue #5, docs/benchmarks.md finding 1): how much of a host call's
 * cost is due to the `__provider` text that travels in every request (and back in most responses)?
 * It decides whether shrinking the serialized providers is worth doing.
 *
 * The same Check of a device (no hub I/O) goes through the real host with three `__provider` texts,
 * interleaved in small blocks, sequentially:
 *  - ours: the text `pulumi up` sends (bench/pulumi-up-providers.ts), with our real check;
 *  - padded: a minimal provider whose check returns its inputs, padded with a comment to exactly the
 *    size of ours — built from ours' own characters, because ours holds a few non-ASCII characters,
 *    which makes V8 hold (and google-protobuf encode) the whole string as two-byte text;
 *  - minimal: the same minimal provider without padding.
 * padded − minimal is the cost of the text's size; ours − padded the cost of our check's logic.
 * The host deserializes each distinct text once (its `providerCache`), so after one untimed call per
 * text what remains per call is carrying, decoding and re-encoding the text.
 */
import type { PlainObject } from '../tests/support/host-grpc';
import type { ProviderHost } from '../tests/support/provider-host';
import { childPids, startCpuMeter } from './process-cpu';
import { DYNAMIC_TYPES, deviceEngineInputs, type HubTarget } from './provider-lifecycles';
import { median, pairedRatios } from './stats';

/**
 * A provider in the shape Pulumi's closure serializer writes (`exports.handler` returns the provider
 * object; each method wrapped in a `with` of its captured variables), with only a check that returns
 * its inputs — what the host needs for Check.
 */
export const MINIMAL_PROVIDER_TEXT = `exports.handler = __f0;

var __provider = {check: __f1};

function __f1(__0, __1) {
  return (function() {
    with({ this: undefined, arguments: undefined }) {

return async function /*check*/(_olds, news) {
            return { inputs: news };
        };

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f0() {
  return (function() {
    with({ provider: __provider, this: undefined, arguments: undefined }) {

return () => provider;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}
`;

/** The minimal provider followed by a comment made of `like`'s characters, to `like`'s byte length. */
export function paddedProviderText(like: string): string {
  const open = '\n/*';
  const close = '*/\n';
  const room =
    Buffer.byteLength(like) - Buffer.byteLength(MINIMAL_PROVIDER_TEXT) - open.length - close.length;
  if (room <= 0) throw new Error(`paddedProviderText: the text to match is only ${like.length} bytes`);
  // `*/` inside would end the comment early; `* /` keeps the character classes. Taken by code
  // point and counted in bytes, since ours' non-ASCII characters are several bytes each.
  let padding = '';
  let bytes = 0;
  for (const char of like.replaceAll('*/', '* /')) {
    const size = Buffer.byteLength(char);
    if (bytes + size > room) break;
    padding += char;
    bytes += size;
  }
  padding += ' '.repeat(room - bytes);
  return `${MINIMAL_PROVIDER_TEXT}${open}${padding}${close}`;
}

type Variant = 'ours' | 'padded' | 'minimal';
const VARIANTS: readonly Variant[] = ['ours', 'padded', 'minimal'];
const BLOCK = 10;

/** Per variant, per block: wall ms per call and CPU ms per call (bench process, host). */
interface BlockSample {
  wallMs: number;
  benchCpuMs: number;
  hostCpuMs: number;
}

export interface ProviderTextCost {
  texts: Record<Variant, string>;
  samples: Record<Variant, BlockSample[]>;
  checks: number;
}

/** `checks` Check round trips per variant, in blocks of 10 whose variant order rotates. */
export async function measureProviderTextCost(
  host: ProviderHost,
  target: HubTarget,
  ours: string,
  checks: number,
): Promise<ProviderTextCost> {
  const texts: Record<Variant, string> = {
    ours,
    padded: paddedProviderText(ours),
    minimal: MINIMAL_PROVIDER_TEXT,
  };
  const urn = `urn:pulumi:bench::iothub-as-code::${DYNAMIC_TYPES.device}::provider-text`;
  const check = async (variant: Variant) => {
    const news: PlainObject = deviceEngineInputs(target, 'provider-text', texts[variant]);
    const result = await host.check(urn, {}, news);
    if (result.failures.length > 0)
      throw new Error(`${variant}: check failed: ${result.failures[0]!.reason}`);
  };
  // First call per text: the host deserializes and caches it; not part of the per-call cost.
  for (const variant of VARIANTS) for (let i = 0; i < BLOCK; i++) await check(variant);
  const hostPid = childPids('dynamic-provider')[0];
  const samples: Record<Variant, BlockSample[]> = { ours: [], padded: [], minimal: [] };
  const blocks = Math.max(1, Math.ceil(checks / BLOCK));
  for (let block = 0; block < blocks; block++) {
    for (let i = 0; i < VARIANTS.length; i++) {
      const variant = VARIANTS[(i + block) % VARIANTS.length]!;
      const meter = startCpuMeter({ bench: 'self', host: hostPid ?? Number.NaN });
      const started = process.hrtime.bigint();
      for (let call = 0; call < BLOCK; call++) await check(variant);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      const cpu = meter.read();
      samples[variant].push({
        wallMs: wallMs / BLOCK,
        benchCpuMs: cpu['bench']! / BLOCK,
        hostCpuMs: cpu['host']! / BLOCK,
      });
    }
  }
  return { texts, samples, checks: blocks * BLOCK };
}

/**
 * Copies of `__provider` in the requests and responses of one host lifecycle
 * (bench/provider-lifecycles.ts `hostProviderLifecycle`, 11 calls): Check 2 (news in, inputs out; 3
 * for the second twin Check, whose olds hold it too) × 4 checks + 1, Create 2 × 3, Diff 3 (olds, news,
 * old inputs), Update 4 (the same + outputs), Delete 1 × 2.
 */
export const PROVIDER_COPIES_PER_HOST_LIFECYCLE = 24;
/** Check of a new resource: the text in the request's news and in the response's inputs. */
const COPIES_PER_CHECK = 2;

const kib = (text: string) => (Buffer.byteLength(text) / 1024).toFixed(1);

/** CPU ms per call over all blocks of a variant (the host's is counted in 10 ms ticks: sum, then divide). */
function cpuPerCall(samples: readonly BlockSample[], field: 'benchCpuMs' | 'hostCpuMs'): number {
  return samples.reduce((sum, s) => sum + s[field], 0) / samples.length;
}

/**
 * `hostLifecycleCpuMs`: CPU per lifecycle (harness + host) measured in comparison (b), to set the
 * estimate against.
 */
export function providerTextCostLines(cost: ProviderTextCost, hostLifecycleCpuMs?: number): string[] {
  const { samples, texts } = cost;
  const describe = (variant: Variant, label: string) => {
    const walls = samples[variant].map((s) => s.wallMs);
    return (
      `    ${label} (${kib(texts[variant])} KiB): ${median(walls).toFixed(2)} ms per call ` +
      `(${Math.min(...walls).toFixed(2)}–${Math.max(...walls).toFixed(2)}); CPU per call: harness ` +
      `${cpuPerCall(samples[variant], 'benchCpuMs').toFixed(2)} ms, host ${cpuPerCall(samples[variant], 'hostCpuMs').toFixed(2)} ms`
    );
  };
  // Paired blocks (adjacent in time) cancel slow drifts, like the rounds' paired ratios.
  const pairedWallDiff = (a: Variant, b: Variant) =>
    median(samples[a].map((s, i) => s.wallMs - samples[b][i]!.wallMs));
  const cpuDiff = (field: 'benchCpuMs' | 'hostCpuMs') =>
    cpuPerCall(samples.padded, field) - cpuPerCall(samples.minimal, field);
  const size = {
    wall: pairedWallDiff('padded', 'minimal'),
    bench: cpuDiff('benchCpuMs'),
    host: cpuDiff('hostCpuMs'),
  };
  const logic = pairedWallDiff('ours', 'padded');
  const perLifecycle = (ms: number) => (ms / COPIES_PER_CHECK) * PROVIDER_COPIES_PER_HOST_LIFECYCLE;
  const sizeShare = median(
    pairedRatios(
      samples.padded.map((s) => s.wallMs),
      samples.minimal.map((s) => s.wallMs),
    ),
  );
  const cpuEstimate = perLifecycle(size.host) + perLifecycle(size.bench);
  const against =
    hostLifecycleCpuMs === undefined
      ? ''
      : ` — ${((100 * cpuEstimate) / hostLifecycleCpuMs).toFixed(0)}% of the ${hostLifecycleCpuMs.toFixed(1)} ms harness + host CPU per lifecycle measured in (b)`;
  return [
    `  __provider text per host call: Check of a device through the host (no hub I/O), ${cost.checks} sequential calls per text, interleaved in blocks of ${BLOCK}:`,
    describe('ours', 'ours, real check'),
    describe('padded', 'minimal provider padded to the same size'),
    describe('minimal', 'minimal provider (check returns its inputs)'),
    `    size of the text: +${size.wall.toFixed(2)} ms per Check (padded − minimal, median of paired blocks; the padded call takes ${sizeShare.toFixed(2)}× the minimal one), ` +
      `CPU +${size.bench.toFixed(2)} ms harness (the engine's side: Go under pulumi up), +${size.host.toFixed(2)} ms host`,
    `    our check's logic: ${logic >= 0 ? '+' : ''}${logic.toFixed(2)} ms per Check (ours − padded)`,
    `    per host lifecycle (${PROVIDER_COPIES_PER_HOST_LIFECYCLE} copies of the text in 11 calls, ${COPIES_PER_CHECK} per Check; estimate, linear in copies): ` +
      `≈ ${perLifecycle(size.host).toFixed(1)} ms host CPU + ${perLifecycle(size.bench).toFixed(1)} ms harness CPU${against}; ≈ ${perLifecycle(size.wall).toFixed(1)} ms of wall if sequential`,
  ];
}
