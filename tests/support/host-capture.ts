/**
 * Captures what a program registers under `pulumi.runtime.setMocks`, for harness self-tests that
 * declare their own tiny dynamic resources. (The project's program is run by program-under-mocks.ts;
 * this is the same mechanism for a few lines of program written inside a test.) The captured inputs
 * hold the serialized provider `__provider`, produced by Pulumi's own closure serializer.
 */
import * as pulumi from '@pulumi/pulumi';
import type { PlainObject } from './host-grpc';
import type { NewResourceHandler } from './lifecycle-state';

export interface RegisteredResource {
  type: string;
  name: string;
  inputs: PlainObject;
}

/**
 * Runs `program` under mocks. Each registration goes to `onNewResource` (when it returns a result,
 * that is the resource's id/state) or gets the mock default: id `<name>-id`, state = inputs.
 * `program` must await whatever it declares (e.g. via `settled`).
 */
export async function runUnderMocks(
  program: () => Promise<void>,
  options: { project?: string; stack?: string; onNewResource?: NewResourceHandler } = {},
): Promise<RegisteredResource[]> {
  const registered: RegisteredResource[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: async (args) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs as PlainObject });
        const routed = await options.onNewResource?.(args);
        return routed ?? { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    options.project ?? 'iothub-as-code',
    options.stack ?? 'local',
    false,
  );
  await program();
  return registered;
}

/**
 * Resolves when every given resource's id is known (its registration finished); rejects when a
 * registration failed. `promise()` is Output's internal accessor: `apply` would never run on failure.
 */
export function settled(...resources: pulumi.CustomResource[]): Promise<unknown[]> {
  return Promise.all(resources.map((r) => (r.id as unknown as { promise(): Promise<unknown> }).promise()));
}
