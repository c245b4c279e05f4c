/**
 * One device's or module's twin: desired and reported side by side with their `$version`s, each desired
 * property's acknowledgement classified on the hub (lib/twin-ack-status.ts: acknowledged, pending,
 * rejected), the identity's keys masked until revealed, and its recent telemetry.
 */
import { describeError, encodeId, getJson } from './api.js';
import { ago, badge, connection, every, fill, h, inline, json, markLive, message } from './render.js';
import { telemetryFeed } from './telemetry-feed.js';

const REFRESH_MS = 1000;

export function twinPage(container, { deviceId, moduleId }, signal) {
  const idPath =
    moduleId === undefined ? encodeId(deviceId) : `${encodeId(deviceId)}/modules/${encodeId(moduleId)}`;
  const facts = h('div', { class: 'facts' });
  const acks = h('div', { id: 'acks' });
  const documents = h('div', { class: 'side-by-side' });
  const tags = h('div');
  const status = h('div', { class: 'status-line' });
  fill(
    container,
    h('h1', {}, moduleId === undefined ? `Device ${deviceId}` : `Module ${moduleId}`),
    moduleId === undefined ? null : h('p', { class: 'subtitle' }, `on device ${deviceId}`),
    facts,
    status,
    keysSection(`/devices/${idPath}`),
    h('h2', {}, 'Desired properties and acknowledgements'),
    acks,
    h('h2', {}, 'Twin'),
    documents,
    tags,
    h(
      'h2',
      {},
      moduleId === undefined ? 'Recent telemetry from this device' : 'Recent telemetry from this module',
    ),
    telemetryFeed({
      filter: { deviceId, ...(moduleId === undefined ? { deviceOnly: true } : { moduleId }) },
      signal,
      showIdentity: false,
      max: 50,
    }),
  );
  void every(
    REFRESH_MS,
    signal,
    async () => {
      const twin = await getJson(`/local-hub/view/api/twins/${idPath}`, signal);
      fill(
        facts,
        twin.status && badge(twin.status),
        connection(twin.connectionState),
        h('span', {}, `last activity ${ago(twin.lastActivityTime)}`),
        h('span', {}, `authentication ${twin.authenticationType}`),
        h('span', {}, `twin version ${twin.version}`),
      );
      fill(acks, ackTable(twin.acks));
      fill(
        documents,
        section('Desired', twin.desired, 'desired'),
        section('Reported', twin.reported, 'reported'),
      );
      fill(tags, Object.keys(twin.tags).length > 0 ? section('Tags', twin.tags, 'tags') : null);
    },
    (error) => {
      markLive(error);
      fill(status, error ? message(describeError(error, 'ServiceConnect'), 'error') : null);
    },
  );
}

function section(title, document, id) {
  const version = document.$version === undefined ? '' : ` — $version ${document.$version}`;
  return h(
    'div',
    { class: 'document', id: `doc-${id}` },
    h('h3', {}, `${title}${version}`),
    h('pre', { class: 'code-block' }, json(document)),
  );
}

function ackTable(rows) {
  if (rows.length === 0) return message('No desired properties.');
  return h(
    'table',
    { class: 'acks' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'Property'),
        h('th', {}, 'Desired'),
        h('th', {}, 'Acknowledged value'),
        h('th', {}, 'ac · av'),
        h('th', {}, 'Status'),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((row) =>
        h(
          'tr',
          { 'data-property': row.key, class: `row-${row.status}` },
          h('td', {}, h('code', {}, row.key)),
          h('td', {}, h('code', {}, inline(row.desired))),
          h('td', {}, row.ack ? h('code', {}, inline(row.ack.value)) : '—'),
          h('td', { class: 'num' }, row.ack ? `${row.ack.ac} · ${row.ack.av}` : '—'),
          h(
            'td',
            { class: 'status' },
            badge(row.status),
            row.reason && h('span', { class: 'reason' }, row.reason),
          ),
        ),
      ),
    ),
  );
}

/** Keys are fetched only when asked for, from the registry route (RegistryRead), and hidden again on request. */
function keysSection(registryPath) {
  const body = h('div', { class: 'keys-body' });
  const hidden = () =>
    fill(
      body,
      h('span', { class: 'masked' }, 'Primary key ••••••••••••  Secondary key ••••••••••••'),
      h('button', { type: 'button', id: 'reveal-keys', onclick: reveal }, 'Reveal keys'),
    );
  async function reveal() {
    try {
      const identity = await getJson(registryPath);
      const { type, symmetricKey } = identity.authentication;
      if (type !== 'sas') {
        fill(body, message(`This identity authenticates with ${type}: it has no keys.`));
        return;
      }
      fill(
        body,
        h('div', {}, 'Primary key ', h('code', { class: 'secret' }, symmetricKey.primaryKey)),
        h('div', {}, 'Secondary key ', h('code', { class: 'secret' }, symmetricKey.secondaryKey)),
        h('button', { type: 'button', id: 'hide-keys', onclick: hidden }, 'Hide keys'),
      );
    } catch (error) {
      fill(
        body,
        message(describeError(error, 'RegistryRead'), 'error'),
        h('button', { type: 'button', onclick: hidden }, 'Back'),
      );
    }
  }
  hidden();
  return h('div', { class: 'keys' }, h('h2', {}, 'Keys'), body);
}
