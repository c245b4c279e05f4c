/**
 * What `npm start` does, as data: named steps in order, each with the condition under which it runs.
 * Pure (the facts are probed by scripts/start.ts), so the plan is testable without the CLI or a hub.
 */
import { DEFAULT_LOCAL_HUB_HOST, DEFAULT_LOCAL_HUB_PORT } from '../lib/local-hub-defaults';
import { PASSPHRASE_FILE, STATE_DIR } from './pulumi-local-backend';

export const LOCAL_STACK = 'local';

export type StartStepName =
  | 'install-pulumi-cli'
  | 'prepare-local-backend'
  | 'start-local-hub'
  | 'use-running-local-hub'
  | 'select-stack'
  | 'pulumi-up'
  | 'run-module-runtimes';

/** Probed before planning. */
export interface StartFacts {
  /** Something accepts connections on the local hub's default address. */
  hubAnswering: boolean;
  /** Run the declared modules' device runtimes after `up` (off with `--no-device`). */
  runDevices: boolean;
}

export interface StartStep {
  name: StartStepName;
  description: string;
  /** Runs only when this holds; always when absent. */
  when?: (facts: StartFacts) => boolean;
}

const HUB_ADDRESS = `${DEFAULT_LOCAL_HUB_HOST}:${DEFAULT_LOCAL_HUB_PORT}`;

/** The CLI comes first: without it nothing else is worth doing (and no hub is started for nothing). */
export const START_STEPS: readonly StartStep[] = [
  {
    name: 'install-pulumi-cli',
    description:
      'the Pulumi CLI in .tools/pulumi (scripts/install-pulumi.sh: reused, downloaded, or built from the Go module proxy)',
  },
  {
    name: 'prepare-local-backend',
    description: `file state backend ${STATE_DIR}/ and passphrase file ${PASSPHRASE_FILE} (created once)`,
  },
  {
    name: 'start-local-hub',
    description: `start the embedded hub on ${HUB_ADDRESS} in this process (data in .local-hub/)`,
    when: (facts) => !facts.hubAnswering,
  },
  {
    name: 'use-running-local-hub',
    description: `use the hub already listening on ${HUB_ADDRESS}`,
    when: (facts) => facts.hubAnswering,
  },
  { name: 'select-stack', description: `select the "${LOCAL_STACK}" stack, creating it on first run` },
  {
    name: 'pulumi-up',
    description: `pulumi up --yes --stack ${LOCAL_STACK} (the real engine; index.ts runs as an inline program)`,
  },
  {
    name: 'run-module-runtimes',
    description: 'run the device runtime for every declared module until Ctrl-C',
    when: (facts) => facts.runDevices,
  },
];

export function planStart(facts: StartFacts): StartStep[] {
  return START_STEPS.filter((step) => step.when?.(facts) ?? true);
}
