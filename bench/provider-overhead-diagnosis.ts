/**
 * The diagnosis bench/provider-overhead.ts prints after its ratios: what the hub saw per lifecycle
 * (TLS connections, requests, time in its handlers) in each mode, and the TLS micro-costs behind
 * docs/benchmarks.md finding 1 (what the client factory's cached secure context avoids).
 */
import * as https from 'node:https';
import * as tls from 'node:tls';
import { startHubProcess } from './hub-process';
import { runPool, timed } from './pool';
import type { HubTarget, Lifecycle } from './provider-lifecycles';

/**
 * Building a TLS context that trusts Node's ~145 roots plus the hub CA vs the hub CA alone, and the
 * https.Agent pool key a per-request `ca` list costs: what every provider call paid before the client
 * factory built one secure context per CA (dynamic-providers/iothub-client.ts).
 */
export function tlsMicroCosts(target: HubTarget): string[] {
  const contextMs = (ca: string[]) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < 10; i++) tls.createSecureContext({ ca });
    return Number(process.hrtime.bigint() - started) / 1e6 / 10;
  };
  const withRoots = contextMs([...tls.rootCertificates, target.caCertificate]);
  const caOnly = contextMs([target.caCertificate]);
  // https.Agent keys its socket pool by a string that includes every `ca` PEM, built per request.
  const agentKeyMs = (ca: string[]) => {
    const agent = new https.Agent({ keepAlive: true });
    const started = process.hrtime.bigint();
    for (let i = 0; i < 200; i++)
      agent.getName({ host: '127.0.0.1', port: 8443, ca } as https.RequestOptions);
    return Number(process.hrtime.bigint() - started) / 1e6 / 200;
  };
  const keyWithRoots = agentKeyMs([...tls.rootCertificates, target.caCertificate]);
  return [
    `  TLS context per new connection: ${withRoots.toFixed(1)} ms with Node's ${tls.rootCertificates.length} roots + hub CA, ${caOnly.toFixed(2)} ms with the hub CA only (the client factory builds it once per CA)`,
    `  https.Agent pool key per request with that list as \`ca\`: ${keyWithRoots.toFixed(2)} ms (avoided: the factory passes a cached secureContext, not \`ca\`)`,
  ];
}

export interface SequentialDiagnosis<Mode extends string> {
  lines: string[];
  /** Sequential wall time per lifecycle, per mode. */
  perLifecycleMs: Record<Mode, number>;
}

/**
 * Five lifecycles per mode, one at a time, on a debug-logging hub of its own: what the hub saw and
 * the wall time per lifecycle (latency, not throughput).
 */
export async function sequentialDiagnosis<Mode extends string>(
  modes: readonly Mode[],
  labels: Record<Mode, string>,
  lifecycleOf: (mode: Mode, target: HubTarget) => Lifecycle,
): Promise<SequentialDiagnosis<Mode>> {
  const hub = await startHubProcess({ logLevel: 'debug' });
  const target = { connectionString: hub.serviceConnectionString(), caCertificate: hub.caCertificate };
  const sample = 5;
  const lines: string[] = [];
  const perLifecycleMs = {} as Record<Mode, number>;
  try {
    for (const mode of modes) {
      const lifecycle = lifecycleOf(mode, target);
      await lifecycle(`diag-${mode}-warm`);
      hub.clearLines();
      perLifecycleMs[mode] =
        (await timed(() => runPool(sample, 1, (i) => lifecycle(`diag-${mode}-${i}`)))) / sample;
      // The hub logs asynchronously to a pipe: give the last lines a moment to arrive.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const logged = hub.lines();
      const connections = logged.filter((l) => / DEBUG connection .*protocol=http/.test(l)).length;
      const requests = logged.filter((l) => / INFO request /.test(l));
      const hubMs = requests.reduce((sum, l) => sum + Number(/ ms=([\d.]+)/.exec(l)?.[1] ?? 0), 0);
      lines.push(
        `  ${labels[mode]}: ${perLifecycleMs[mode].toFixed(1)} ms per lifecycle; ${(connections / sample).toFixed(1)} TLS connections, ` +
          `${(requests.length / sample).toFixed(1)} requests, ${(hubMs / sample).toFixed(1)} ms in hub handlers per lifecycle`,
      );
    }
  } finally {
    await hub.close();
  }
  return { lines, perLifecycleMs };
}
