/**
 * The provider `check` every contract test starts from: the declared config plus the hub's connection
 * (secret inputs, as the program passes them), which must pass without failures; returns the checked inputs.
 */
import assert from 'node:assert/strict';
import type * as pulumi from '@pulumi/pulumi';

export interface CheckedHub {
  serviceConnectionString(): string;
  caCertificatePem: string;
}

export async function checkedInputs<T>(
  provider: pulumi.dynamic.ResourceProvider,
  hub: CheckedHub,
  config: Record<string, unknown>,
): Promise<T> {
  const news = {
    hubConnectionString: hub.serviceConnectionString(),
    hubCaCertificate: hub.caCertificatePem,
    ...config,
  };
  const result = await provider.check!({}, news);
  assert.deepEqual(result.failures, []);
  return result.inputs as T;
}
