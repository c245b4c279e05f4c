/**
 * Pure planning for device and module identities: what a create sends, what an update (full PUT)
 * sends, and how a hub identity becomes resource outputs and refreshed inputs.
 *
 * Why a full PUT is planned from the *current* identity: the identity PUT replaces the whole record
 * and omitted fields are reset — statusReason, authentication (new keys!), capabilities, deviceScope
 * (docs/iot-hub-behaviour.md §0.4: "identity update is a full PUT"). So an update always starts from
 * the body the hub just returned and overlays only the fields the user changed.
 */
import { buildDeviceConnectionString } from './connection-string';

export type IdentityKind = 'device' | 'module';
export type IdentityStatus = 'enabled' | 'disabled';

/** The public `authentication` argument (the keys are split off into secret inputs by the resource). */
export type IdentityAuthenticationArgs =
  | { type: 'sas'; primaryKey?: string; secondaryKey?: string }
  | { type: 'selfSigned'; primaryThumbprint: string; secondaryThumbprint?: string }
  | { type: 'certificateAuthority' };

/** Authentication as stored in inputs/outputs: never a key. `none` only appears when read from a hub. */
export type AuthSpec =
  | { type: 'sas' }
  | { type: 'selfSigned'; primaryThumbprint: string; secondaryThumbprint?: string }
  | { type: 'certificateAuthority' }
  | { type: 'none' };

/** The hub-relevant desired settings (checked inputs). Absent optional fields are not managed. */
export interface IdentitySpec {
  deviceId: string;
  moduleId?: string;
  status?: IdentityStatus;
  statusReason?: string;
  authentication: AuthSpec;
  /** Caller-supplied SAS keys; absent = keep the hub's (or generate them on create). */
  primaryKey?: string;
  secondaryKey?: string;
  iotEdge?: boolean;
  managedBy?: string;
}

/**
 * The subset of the hub's identity JSON this project reads (docs/iot-hub-behaviour.md §1.3); other fields pass
 * through.
 */
export interface HubIdentity {
  deviceId: string;
  moduleId?: string;
  etag?: string;
  generationId?: string;
  status?: string;
  statusReason?: string | null;
  managedBy?: string | null;
  capabilities?: { iotEdge?: boolean };
  authentication?: {
    type?: string;
    symmetricKey?: { primaryKey?: string | null; secondaryKey?: string | null };
    x509Thumbprint?: { primaryThumbprint?: string | null; secondaryThumbprint?: string | null };
  };
  [field: string]: unknown;
}

/** What the resource last knew about the identity (its outputs), in comparable form. */
export interface IdentityState {
  status: IdentityStatus | null;
  statusReason: string | null;
  authentication: AuthSpec;
  primaryKey: string | null;
  secondaryKey: string | null;
  iotEdge: boolean;
  managedBy: string | null;
}

export type IdentityField = 'status' | 'statusReason' | 'authentication' | 'keys' | 'iotEdge' | 'managedBy';

/** Thumbprints compare without colons and case (the hub accepts either form, docs/iot-hub-behaviour.md §2). */
export function normalizeThumbprint(value: string): string {
  return value.replace(/:/g, '').toUpperCase();
}

/** The keyless `authentication` input and the supplied keys, split from the public argument. */
export function splitAuthentication(args: IdentityAuthenticationArgs | undefined): {
  authentication: AuthSpec;
  primaryKey?: string;
  secondaryKey?: string;
} {
  if (args === undefined || args.type === 'sas') {
    const keys: { primaryKey?: string; secondaryKey?: string } = {};
    if (args?.primaryKey !== undefined) keys.primaryKey = args.primaryKey;
    if (args?.secondaryKey !== undefined) keys.secondaryKey = args.secondaryKey;
    return { authentication: { type: 'sas' }, ...keys };
  }
  if (args.type === 'selfSigned') {
    const spec: AuthSpec = { type: 'selfSigned', primaryThumbprint: args.primaryThumbprint };
    if (args.secondaryThumbprint !== undefined) spec.secondaryThumbprint = args.secondaryThumbprint;
    return { authentication: spec };
  }
  return { authentication: { type: args.type } };
}

export function authSpecFromHub(auth: HubIdentity['authentication']): AuthSpec {
  const type = auth?.type ?? 'sas';
  if (type === 'selfSigned') {
    const spec: AuthSpec = {
      type,
      primaryThumbprint: normalizeThumbprint(auth?.x509Thumbprint?.primaryThumbprint ?? ''),
    };
    const secondary = auth?.x509Thumbprint?.secondaryThumbprint;
    if (secondary) spec.secondaryThumbprint = normalizeThumbprint(secondary);
    return spec;
  }
  if (type === 'certificateAuthority' || type === 'none') return { type };
  return { type: 'sas' };
}

export function identityStateFromHub(hub: HubIdentity): IdentityState {
  const sas = hub.authentication?.type === 'sas' || hub.authentication?.type === undefined;
  return {
    status: hub.status === 'disabled' ? 'disabled' : hub.status === 'enabled' ? 'enabled' : null,
    statusReason: hub.statusReason ?? null,
    authentication: authSpecFromHub(hub.authentication),
    primaryKey: sas ? hub.authentication?.symmetricKey?.primaryKey || null : null,
    secondaryKey: sas ? hub.authentication?.symmetricKey?.secondaryKey || null : null,
    iotEdge: hub.capabilities?.iotEdge === true,
    managedBy: hub.managedBy ?? null,
  };
}

export function authSpecsEqual(a: AuthSpec, b: AuthSpec): boolean {
  if (a.type !== b.type) return false;
  if (a.type !== 'selfSigned' || b.type !== 'selfSigned') return true;
  const same = (x: string | undefined, y: string | undefined) =>
    normalizeThumbprint(x ?? '') === normalizeThumbprint(y ?? '');
  return same(a.primaryThumbprint, b.primaryThumbprint) && same(a.secondaryThumbprint, b.secondaryThumbprint);
}

/**
 * The declared fields whose desired value differs from `baseline` (the last known state for an
 * update, the hub's current state for an adopt). Undeclared fields never appear: they are not
 * managed, so they are never reset. `''` and `null` status reasons are the same "no reason".
 */
export function changedIdentityFields(baseline: IdentityState, desired: IdentitySpec): IdentityField[] {
  const fields: IdentityField[] = [];
  if (desired.status !== undefined && desired.status !== baseline.status) fields.push('status');
  if (
    desired.statusReason !== undefined &&
    (desired.statusReason || null) !== (baseline.statusReason || null)
  ) {
    fields.push('statusReason');
  }
  if (!authSpecsEqual(baseline.authentication, desired.authentication)) fields.push('authentication');
  const keysDeclared = desired.primaryKey !== undefined || desired.secondaryKey !== undefined;
  if (
    keysDeclared &&
    (desired.primaryKey !== (baseline.primaryKey ?? undefined) ||
      desired.secondaryKey !== (baseline.secondaryKey ?? undefined))
  ) {
    fields.push('keys');
  }
  if (desired.iotEdge !== undefined && desired.iotEdge !== baseline.iotEdge) fields.push('iotEdge');
  if (desired.managedBy !== undefined && desired.managedBy !== (baseline.managedBy ?? undefined)) {
    fields.push('managedBy');
  }
  return fields;
}

type HubAuthentication = NonNullable<HubIdentity['authentication']>;

/** The wire `authentication` for a spec; SAS keys `''` ask the hub to generate them (docs/iot-hub-behaviour.md §2). */
export function hubAuthentication(
  spec: AuthSpec,
  keys: { primaryKey: string; secondaryKey: string } | undefined,
): HubAuthentication {
  const noThumbprints = { primaryThumbprint: null, secondaryThumbprint: null };
  const noKeys = { primaryKey: null, secondaryKey: null };
  if (spec.type === 'sas') {
    return {
      type: 'sas',
      symmetricKey: keys ?? { primaryKey: '', secondaryKey: '' },
      x509Thumbprint: noThumbprints,
    };
  }
  if (spec.type === 'selfSigned') {
    return {
      type: 'selfSigned',
      symmetricKey: noKeys,
      x509Thumbprint: {
        primaryThumbprint: normalizeThumbprint(spec.primaryThumbprint),
        secondaryThumbprint: spec.secondaryThumbprint ? normalizeThumbprint(spec.secondaryThumbprint) : null,
      },
    };
  }
  return { type: spec.type, symmetricKey: noKeys, x509Thumbprint: noThumbprints };
}

function suppliedKeys(spec: IdentitySpec): { primaryKey: string; secondaryKey: string } | undefined {
  if (spec.primaryKey === undefined || spec.secondaryKey === undefined) return undefined;
  return { primaryKey: spec.primaryKey, secondaryKey: spec.secondaryKey };
}

/**
 * The body of the create-only PUT (no If-Match; an existing id answers 409, docs/iot-hub-behaviour.md §1.2).
 * A SAS identity always carries its keys: the supplied ones, else `freshKeys()` (32 random bytes, as the
 * hub would generate). Keys chosen by this create are what recognises the identity as ours when the
 * answer to the PUT is lost and the retry meets 409 (`isIdentityAsCreated`, docs/throttling-and-retries.md).
 */
export function identityCreateBody(
  kind: IdentityKind,
  spec: IdentitySpec,
  freshKeys: () => { primaryKey: string; secondaryKey: string },
): HubIdentity {
  const keys = spec.authentication.type === 'sas' ? (suppliedKeys(spec) ?? freshKeys()) : undefined;
  const authentication = hubAuthentication(spec.authentication, keys);
  if (kind === 'module') {
    const body: HubIdentity = { deviceId: spec.deviceId, moduleId: spec.moduleId!, authentication };
    if (spec.managedBy !== undefined) body.managedBy = spec.managedBy;
    return body;
  }
  const body: HubIdentity = {
    deviceId: spec.deviceId,
    status: spec.status ?? 'enabled',
    authentication,
    capabilities: { iotEdge: spec.iotEdge ?? false },
  };
  if (spec.statusReason !== undefined) body.statusReason = spec.statusReason;
  return body;
}

/**
 * Whether the identity the hub holds is exactly the one `sent` (a create body) asked for: same
 * mechanism, keys or thumbprints, status, reason, IoT Edge flag and `managedBy`. After a create whose
 * answer was lost, a 409 on the retry is our own first PUT when this holds; for SAS the 256-bit keys the
 * create chose make a match by anyone else practically impossible.
 */
export function isIdentityAsCreated(hub: HubIdentity, sent: HubIdentity): boolean {
  const held = identityStateFromHub(hub);
  const asked = identityStateFromHub(sent);
  return (
    authSpecsEqual(held.authentication, asked.authentication) &&
    held.primaryKey === asked.primaryKey &&
    held.secondaryKey === asked.secondaryKey &&
    held.status === asked.status &&
    (held.statusReason || null) === (asked.statusReason || null) &&
    held.iotEdge === asked.iotEdge &&
    (held.managedBy || null) === (asked.managedBy || null)
  );
}

/**
 * The full PUT body: the current identity with `fields` overlaid from `desired`. Current keys are
 * always sent back unless the keys or the mechanism change; switching to SAS without supplied keys
 * uses `freshKeys` (generated by the caller: what the hub does with empty keys on an update is not
 * confirmed, docs/iot-hub-behaviour.md §7, so the client generates them as the az CLI does).
 */
export function identityUpdateBody(
  current: HubIdentity,
  desired: IdentitySpec,
  fields: readonly IdentityField[],
  freshKeys: () => { primaryKey: string; secondaryKey: string },
): HubIdentity {
  const body: HubIdentity = { ...current };
  if (fields.includes('status')) body.status = desired.status!;
  if (fields.includes('statusReason')) body.statusReason = desired.statusReason!;
  if (fields.includes('iotEdge')) body.capabilities = { ...current.capabilities, iotEdge: desired.iotEdge! };
  if (fields.includes('managedBy')) body.managedBy = desired.managedBy!;
  if (fields.includes('authentication') || fields.includes('keys')) {
    const state = identityStateFromHub(current);
    const currentKeys =
      state.authentication.type === 'sas' && state.primaryKey && state.secondaryKey
        ? { primaryKey: state.primaryKey, secondaryKey: state.secondaryKey }
        : undefined;
    const keys =
      desired.authentication.type === 'sas'
        ? (suppliedKeys(desired) ?? currentKeys ?? freshKeys())
        : undefined;
    body.authentication = hubAuthentication(desired.authentication, keys);
  }
  return body;
}

/** `HostName=…;DeviceId=…[;ModuleId=…];SharedAccessKey=…` (or `x509=true`); null when it cannot connect. */
export function identityConnectionString(hostName: string, hub: HubIdentity): string | null {
  const state = identityStateFromHub(hub);
  const base = { hostName, deviceId: hub.deviceId, ...(hub.moduleId ? { moduleId: hub.moduleId } : {}) };
  if (state.authentication.type === 'sas') {
    return state.primaryKey
      ? buildDeviceConnectionString({ ...base, sharedAccessKey: state.primaryKey })
      : null;
  }
  if (state.authentication.type === 'none') return null;
  return buildDeviceConnectionString({ ...base, x509: true });
}
