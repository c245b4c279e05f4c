/**
 * Configurations, automatic device and module management (docs/iot-hub-behaviour.md §8.4):
 * `GET /configurations[?top=n]`, and `GET / PUT / DELETE /configurations/{id}`. PUT without If-Match
 * creates (409 when it exists), with If-Match (`*` or the etag) updates; DELETE honours If-Match.
 * Reading needs RegistryRead, writing RegistryWrite, as for identities. Every one of them, reads and lists
 * included, counts against the configuration throttle (20/min per unit on every tier, docs/iot-hub-behaviour.md §5).
 */
import { hubErrors } from '../errors';
import type { Route } from './routes';

const ID = ['configurations', ':configurationId'] as const;

export function configurationRoutes(): Route[] {
  const id = (params: Record<string, string>) => params['configurationId']!;
  return [
    {
      method: 'GET',
      pattern: ['configurations'],
      access: 'registryRead',
      throttle: 'configuration',
      hasBody: false,
      handle: ({ state, query }) => ({
        status: 200,
        body: state.listConfigurations(parseTop(query.get('top'))),
      }),
    },
    {
      method: 'GET',
      pattern: ID,
      access: 'registryRead',
      throttle: 'configuration',
      hasBody: false,
      handle: ({ state, params }) => ({ status: 200, body: state.getConfiguration(id(params)) }),
    },
    {
      method: 'PUT',
      pattern: ID,
      access: 'registryWrite',
      throttle: 'configuration',
      hasBody: true,
      handle: ({ state, params, body, ifMatch }) => ({
        status: 200,
        body: state.putConfiguration(id(params), body, ifMatch),
      }),
    },
    {
      method: 'DELETE',
      pattern: ID,
      access: 'registryWrite',
      throttle: 'configuration',
      hasBody: false,
      handle: ({ state, params, ifMatch }) => {
        state.deleteConfiguration(id(params), ifMatch);
        return { status: 204 };
      },
    },
  ];
}

function parseTop(value: string | null): number | undefined {
  if (value === null) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw hubErrors.argumentInvalid('top must be a positive integer');
  return n;
}
