/**
 * Recovery after an interrupted `pulumi up` (docs/interrupted-runs.md). A run killed while identities
 * were being created can leave identities on the hub that the state does not record: the provider host
 * outlives the CLI and finishes the requests it had received, and the engine had not yet written those
 * operations down. `npm run pulumi -- recover` sets IOTHUB_ADOPT_EXISTING=1 for the one `up` it runs, so
 * that such identities are taken over (as with `adopt: true`: kept, keys included) instead of failing as
 * "already exists". Only that run: adopt never changes an identity that is already in the state.
 */
export const ADOPT_EXISTING_ENV = 'IOTHUB_ADOPT_EXISTING';

export function adoptExistingThisRun(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[ADOPT_EXISTING_ENV] === '1';
}
