/**
 * A live list of device-to-cloud messages from `GET /local-hub/telemetry`: a long poll that asks for
 * everything after the last sequence seen, newest shown first, the oldest rows dropped past `max`.
 */
import { encodeId, getJson } from './api.js';
import { h, identityName, inline, message, sleep, twinLink } from './render.js';

const WAIT_MS = 20_000;

/**
 * `filter`: { deviceId?, moduleId?, deviceOnly? } (deviceOnly: the device's own messages, not its
 * modules'). Returns the element; the poll runs until `signal` aborts.
 */
export function telemetryFeed({ filter = {}, signal, max = 100, onError, showIdentity = true }) {
  const rows = h('tbody');
  const empty = message('No messages yet: they appear here as the hub receives them.');
  const table = h(
    'table',
    { class: 'telemetry', hidden: true },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, '#'),
        h('th', {}, 'Enqueued'),
        showIdentity && h('th', {}, 'From'),
        h('th', {}, 'Properties'),
        h('th', {}, 'Body'),
      ),
    ),
    rows,
  );
  const query = [
    filter.deviceId === undefined ? '' : `&deviceId=${encodeId(filter.deviceId)}`,
    filter.moduleId === undefined ? '' : `&moduleId=${encodeId(filter.moduleId)}`,
  ].join('');
  void (async () => {
    let after = 0;
    while (!signal.aborted) {
      try {
        const page = await getJson(`/local-hub/telemetry?after=${after}&waitMs=${WAIT_MS}${query}`, signal);
        after = page.next;
        const shown = page.messages.filter((m) => !(filter.deviceOnly && m.moduleId !== undefined));
        for (const m of shown) rows.prepend(row(m, showIdentity));
        while (rows.children.length > max) rows.lastElementChild.remove();
        table.hidden = rows.children.length === 0;
        empty.hidden = rows.children.length > 0;
        onError?.(undefined);
      } catch (error) {
        if (signal.aborted) return;
        onError?.(error);
        await sleep(2000, signal);
      }
    }
  })();
  return h('div', { class: 'feed' }, empty, table);
}

function row(m, showIdentity) {
  const properties = Object.entries(m.properties).map(([k, v]) => h('span', { class: 'prop' }, `${k}=${v}`));
  const body =
    m.bodyEncoding === 'json'
      ? h('code', {}, inline(m.body))
      : m.bodyEncoding === 'utf8'
        ? h('code', {}, m.body)
        : h(
            'code',
            { class: 'base64', title: 'base64 of bytes that are not UTF-8 text' },
            `base64:${m.body}`,
          );
  return h(
    'tr',
    { 'data-sequence': m.sequence },
    h('td', { class: 'num' }, String(m.sequence)),
    // A time of day, not "n s ago": a row is drawn once and must not go stale.
    h('td', { title: m.enqueuedTimeUtc }, timeOfDay(m.enqueuedTimeUtc)),
    showIdentity &&
      h('td', {}, h('a', { href: twinLink(m.deviceId, m.moduleId) }, identityName(m.deviceId, m.moduleId))),
    h('td', {}, properties.length > 0 ? properties : '—'),
    h('td', { class: 'body' }, body),
  );
}

function timeOfDay(iso) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return `${at.toLocaleTimeString([], { hour12: false })}.${String(at.getMilliseconds()).padStart(3, '0')}`;
}
