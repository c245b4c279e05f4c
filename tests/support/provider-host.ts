/**
 * Drives the REAL Pulumi dynamic provider host (`@pulumi/pulumi/cmd/dynamic-provider`, what `pulumi up`
 * launches for every `pulumi.dynamic.Resource`) over gRPC, without the Pulumi CLI (docs/testing-tiers.md
 * "Tier 5"). The harness plays the engine's part of the protocol:
 *  - Configure first (the host reads config only then);
 *  - secrets: see host-secrets.ts — sent as plain values (the host answers `acceptSecrets: false`) and
 *    outputs re-marked from the inputs, as the engine does;
 *  - Diff/Update get the previous OUTPUTS as `olds` (plus `oldInputs`), Check gets previous INPUTS.
 * Every method takes and returns plain JS objects; `__provider` travels as an ordinary property.
 */
import type { ServiceError } from '@grpc/grpc-js';
import type { ResourceProviderClient } from '@pulumi/pulumi/proto/provider_grpc_pb';
import { initFailureOf, ProviderHostError } from './host-errors';
import { fromStruct, loadHostGrpc, type PlainObject, type StructMessage, toStruct } from './host-grpc';
import { type HostProcess, type HostProcessOptions, spawnHostProcess } from './host-process';
import { annotateSecrets, reveal } from './host-secrets';

export { type InitFailure, isProviderHostError, ProviderHostError } from './host-errors';

export interface CheckFailure {
  /** Property path as the provider reported it (e.g. `desired.telemetryInterval`). */
  property: string;
  reason: string;
}
export interface CheckResult {
  inputs: PlainObject;
  failures: CheckFailure[];
}
export type DiffChanges = 'none' | 'some' | 'unknown';
export interface DiffResult {
  changes: DiffChanges;
  replaces: string[];
  deleteBeforeReplace: boolean;
}
export interface CreateResult {
  id: string;
  properties: PlainObject;
}
export interface ReadResult {
  /** `undefined` when the provider reports the object gone (empty id on the wire). */
  id: string | undefined;
  properties: PlainObject;
  /** Present when the provider returned inputs (so refresh does not invent a diff). */
  inputs: PlainObject | undefined;
}

export interface ProviderHost {
  /** Port the host printed on its first stdout line. */
  readonly port: number;
  configure(config?: PlainObject): Promise<void>;
  check(urn: string, olds: PlainObject, news: PlainObject): Promise<CheckResult>;
  diff(
    id: string,
    urn: string,
    olds: PlainObject,
    news: PlainObject,
    oldInputs?: PlainObject,
  ): Promise<DiffResult>;
  create(urn: string, props: PlainObject): Promise<CreateResult>;
  read(id: string, urn: string, props: PlainObject, inputs: PlainObject): Promise<ReadResult>;
  update(
    id: string,
    urn: string,
    olds: PlainObject,
    news: PlainObject,
    oldInputs?: PlainObject,
  ): Promise<{ properties: PlainObject }>;
  delete(id: string, urn: string, props: PlainObject): Promise<void>;
  /** Everything the host wrote to stderr so far (its own logging of provider failures). */
  stderr(): string;
  /** stdout after the port line (a provider's `console.log`). */
  stdout(): string;
  /** Closes the channel, kills the host and waits for it to exit. Idempotent. */
  close(): Promise<void>;
}

export interface StartProviderHostOptions extends HostProcessOptions {
  /** Provider config passed to Configure (keys `project:key`). */
  config?: PlainObject;
  /** Per-call gRPC deadline; default 120 s. Benchmarks under small quotas pass the providers' own ceiling. */
  callDeadlineMs?: number;
}

/** Generous per-call deadline so a wedged host fails the test instead of hanging it; not a timing check. */
const DEFAULT_CALL_DEADLINE_MS = 120_000;

/** Spawns the host, connects, and calls Configure, as the engine does before any resource call. */
export async function startProviderHost(options: StartProviderHostOptions = {}): Promise<ProviderHost> {
  const hostProcess = await spawnHostProcess(options);
  const host = new GrpcProviderHost(hostProcess, options.callDeadlineMs ?? DEFAULT_CALL_DEADLINE_MS);
  try {
    await host.configure(options.config ?? {});
  } catch (error) {
    await host.close();
    throw error;
  }
  return host;
}

class GrpcProviderHost implements ProviderHost {
  private readonly client: ResourceProviderClient;
  /** What the host answered to Configure; the dynamic provider host says false. */
  private acceptSecrets = false;
  readonly port: number;

  constructor(
    private readonly hostProcess: HostProcess,
    private readonly callDeadlineMs: number,
  ) {
    const { grpc, providerGrpc } = loadHostGrpc();
    this.port = hostProcess.port;
    this.client = new providerGrpc.ResourceProviderClient(
      `127.0.0.1:${this.port}`,
      grpc.credentials.createInsecure(),
    );
  }

  async configure(config: PlainObject = {}): Promise<void> {
    const { providerPb } = loadHostGrpc();
    const request = new providerPb.ConfigureRequest();
    request.setArgs(toStruct(reveal(config)));
    request.setAcceptsecrets(true);
    request.setAcceptresources(true);
    const response = await this.call<InstanceType<typeof providerPb.ConfigureResponse>>('configure', request);
    this.acceptSecrets = response.getAcceptsecrets();
  }

  async check(urn: string, olds: PlainObject, news: PlainObject): Promise<CheckResult> {
    const { providerPb } = loadHostGrpc();
    const request = new providerPb.CheckRequest();
    request.setUrn(urn);
    request.setOlds(this.marshal(olds));
    request.setNews(this.marshal(news));
    const response = await this.call<InstanceType<typeof providerPb.CheckResponse>>('check', request);
    return {
      inputs: this.unmarshal(response.getInputs(), news),
      failures: response.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
    };
  }

  async diff(
    id: string,
    urn: string,
    olds: PlainObject,
    news: PlainObject,
    oldInputs: PlainObject = olds,
  ): Promise<DiffResult> {
    const { providerPb } = loadHostGrpc();
    const request = new providerPb.DiffRequest();
    request.setId(id);
    request.setUrn(urn);
    request.setOlds(this.marshal(olds));
    request.setNews(this.marshal(news));
    request.setOldInputs(this.marshal(oldInputs));
    const response = await this.call<InstanceType<typeof providerPb.DiffResponse>>('diff', request);
    const kinds = providerPb.DiffResponse.DiffChanges;
    const changes = response.getChanges();
    return {
      changes: changes === kinds.DIFF_SOME ? 'some' : changes === kinds.DIFF_NONE ? 'none' : 'unknown',
      replaces: response.getReplacesList(),
      deleteBeforeReplace: response.getDeletebeforereplace(),
    };
  }

  async create(urn: string, props: PlainObject): Promise<CreateResult> {
    const { providerPb } = loadHostGrpc();
    const request = new providerPb.CreateRequest();
    request.setUrn(urn);
    request.setProperties(this.marshal(props));
    const response = await this.call<InstanceType<typeof providerPb.CreateResponse>>(
      'create',
      request,
      props,
    );
    return { id: response.getId(), properties: this.unmarshal(response.getProperties(), props) };
  }

  async read(id: string, urn: string, props: PlainObject, inputs: PlainObject): Promise<ReadResult> {
    const { providerPb } = loadHostGrpc();
    const request = new providerPb.ReadRequest();
    request.setId(id);
    request.setUrn(urn);
    request.setProperties(this.marshal(props));
    request.setInputs(this.marshal(inputs));
    const response = await this.call<InstanceType<typeof providerPb.ReadResponse>>('read', request);
    const returnedInputs = response.getInputs();
    return {
      id: response.getId() || undefined,
      properties: this.unmarshal(response.getProperties(), props),
      inputs: returnedInputs ? this.unmarshal(returnedInputs, inputs) : undefined,
    };
  }

  async update(
    id: string,
    urn: string,
    olds: PlainObject,
    news: PlainObject,
    oldInputs: PlainObject = olds,
  ): Promise<{ properties: PlainObject }> {
    const { providerPb } = loadHostGrpc();
    const request = new providerPb.UpdateRequest();
    request.setId(id);
    request.setUrn(urn);
    request.setOlds(this.marshal(olds));
    request.setNews(this.marshal(news));
    request.setOldInputs(this.marshal(oldInputs));
    const response = await this.call<InstanceType<typeof providerPb.UpdateResponse>>('update', request, news);
    return { properties: this.unmarshal(response.getProperties(), news) };
  }

  async delete(id: string, urn: string, props: PlainObject): Promise<void> {
    const { providerPb } = loadHostGrpc();
    const request = new providerPb.DeleteRequest();
    request.setId(id);
    request.setUrn(urn);
    request.setProperties(this.marshal(props));
    await this.call('delete', request);
  }

  /** Engine marshalling: a provider that does not accept secrets gets their plain values. */
  private marshal(props: PlainObject): StructMessage {
    return toStruct(this.acceptSecrets ? props : reveal(props));
  }

  /** Engine unmarshalling: outputs of a non-secret provider are re-marked from its inputs. */
  private unmarshal(struct: StructMessage | undefined, ins: PlainObject): PlainObject {
    return this.unmarshalPlain(fromStruct(struct), ins);
  }

  stderr(): string {
    return this.hostProcess.stderr();
  }

  stdout(): string {
    return this.hostProcess.stdout();
  }

  close(): Promise<void> {
    this.client.close();
    return this.hostProcess.stop();
  }

  /**
   * Unary call with the generated client's callback API, errors mapped to ProviderHostError.
   * `inputs` (Create/Update) let an init failure's outputs be re-marked secret like a success's.
   */
  private call<Response>(method: string, request: unknown, inputs?: PlainObject): Promise<Response> {
    const deadline = new Date(Date.now() + this.callDeadlineMs);
    const invoke = (this.client as unknown as Record<string, UnaryMethod>)[method]!.bind(this.client);
    return new Promise<Response>((resolve, reject) => {
      invoke(request, { deadline }, (error, response) => {
        if (!error) return resolve(response as Response);
        const initFailure = initFailureOf(error);
        if (initFailure && inputs) {
          initFailure.properties = this.unmarshalPlain(initFailure.properties, inputs);
        }
        reject(new ProviderHostError(method, error.code, error.details || error.message, initFailure));
      });
    });
  }

  private unmarshalPlain(outs: PlainObject, ins: PlainObject): PlainObject {
    return this.acceptSecrets ? outs : annotateSecrets(outs, ins);
  }
}

type UnaryMethod = (
  request: unknown,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: unknown) => void,
) => unknown;
