/**
 * The list pages: identities (devices with their modules, status, connection state, acknowledgement
 * counts), telemetry (every identity, live) and configurations (with their system and custom metrics).
 */
import { describeError, getJson } from './api.js';
import {
  ago,
  badge,
  connection,
  every,
  fill,
  h,
  identityName,
  json,
  markLive,
  message,
  twinLink,
} from './render.js';
import { telemetryFeed } from './telemetry-feed.js';

export function identitiesPage(container, signal) {
  const table = h('div');
  const status = h('div', { class: 'status-line' });
  fill(container, h('h1', {}, 'Devices and modules'), status, table);
  void every(
    2000,
    signal,
    async () => {
      const { devices } = await getJson('/local-hub/view/api/identities', signal);
      fill(
        table,
        devices.length === 0 ? message('No devices are registered in this hub yet.') : identityTable(devices),
      );
    },
    (error) => {
      markLive(error);
      fill(
        status,
        error
          ? message(describeError(error, 'RegistryRead, RegistryWrite or ServiceConnect'), 'error')
          : null,
      );
    },
  );
}

function identityTable(devices) {
  const rows = [];
  for (const device of devices) {
    rows.push(identityRow(device, device.status, 'device'));
    for (const module of device.modules) rows.push(identityRow(module, device.status, 'module'));
  }
  return h(
    'table',
    { class: 'identities' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'Identity'),
        h('th', {}, 'Status'),
        h('th', {}, 'Connection'),
        h('th', {}, 'Last activity'),
        h('th', {}, 'Desired properties'),
        h('th', {}, 'Recent messages'),
      ),
    ),
    h('tbody', {}, rows),
  );
}

function identityRow(identity, status, kind) {
  const name = kind === 'module' ? `↳ ${identity.moduleId}` : identity.deviceId;
  return h(
    'tr',
    { class: `identity-${kind}`, 'data-identity': identityName(identity.deviceId, identity.moduleId) },
    h('td', {}, h('a', { href: twinLink(identity.deviceId, identity.moduleId) }, name)),
    h('td', {}, kind === 'device' ? badge(status) : h('span', { class: 'muted' }, `(device ${status})`)),
    h('td', {}, connection(identity.connectionState)),
    h('td', { title: identity.lastActivityTime }, ago(identity.lastActivityTime)),
    h('td', {}, ackCounts(identity.acks)),
    h('td', { class: 'num' }, String(identity.recentMessages)),
  );
}

function ackCounts(acks) {
  const parts = ['acknowledged', 'pending', 'rejected']
    .filter((status) => acks[status] > 0)
    .map((status) => badge(`${acks[status]} ${status}`, status));
  return parts.length > 0 ? parts : h('span', { class: 'muted' }, 'none');
}

export function telemetryPage(container, signal) {
  const status = h('div', { class: 'status-line' });
  fill(
    container,
    h('h1', {}, 'Telemetry'),
    h(
      'p',
      { class: 'note' },
      'The latest device-to-cloud messages the hub keeps in memory (100 per identity), newest first.',
    ),
    status,
    telemetryFeed({
      signal,
      max: 200,
      onError: (error) => {
        markLive(error);
        fill(status, error ? message(describeError(error, 'ServiceConnect'), 'error') : null);
      },
    }),
  );
}

export function configurationsPage(container, signal) {
  const list = h('div');
  const status = h('div', { class: 'status-line' });
  fill(container, h('h1', {}, 'Configurations'), status, list);
  void every(
    3000,
    signal,
    async () => {
      const configurations = await getJson('/configurations', signal);
      fill(
        list,
        configurations.length === 0 ? message('No configurations.') : configurations.map(configurationCard),
      );
    },
    (error) => {
      markLive(error);
      fill(status, error ? message(describeError(error, 'RegistryRead'), 'error') : null);
    },
  );
}

function configurationCard(c) {
  const system = c.systemMetrics?.results ?? {};
  const custom = c.metrics?.results ?? {};
  const queries = c.metrics?.queries ?? {};
  return h(
    'article',
    { class: 'card', 'data-configuration': c.id },
    h('h2', {}, c.id, ' ', h('span', { class: 'muted' }, `priority ${c.priority}`)),
    h('p', {}, 'Target ', h('code', {}, c.targetCondition || '*')),
    h(
      'div',
      { class: 'metrics' },
      metric('targeted', system.targetedCount),
      metric('applied', system.appliedCount),
      Object.entries(custom).map(([name, count]) => metric(name, count, queries[name])),
    ),
    Object.keys(c.labels ?? {}).length > 0 &&
      h(
        'p',
        {},
        'Labels ',
        Object.entries(c.labels).map(([k, v]) => h('span', { class: 'prop' }, `${k}=${v}`)),
      ),
    h('details', {}, h('summary', {}, 'Content'), h('pre', { class: 'code-block' }, json(c.content))),
    h('p', { class: 'muted' }, `updated ${ago(c.lastUpdatedTimeUtc)}`),
  );
}

function metric(name, count, query) {
  return h(
    'div',
    { class: 'metric', 'data-metric': name, title: query ?? '' },
    h('div', { class: 'metric-count' }, String(count ?? '—')),
    h('div', { class: 'metric-name' }, name),
  );
}
