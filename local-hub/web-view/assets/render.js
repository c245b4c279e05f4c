/**
 * DOM helpers. Every text goes in through textContent, never innerHTML: ids, property names and message
 * bodies come from devices and must not become markup.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function json(value) {
  return JSON.stringify(value, null, 2) ?? 'undefined';
}

/** Compact JSON for table cells. */
export function inline(value) {
  return value === undefined ? '—' : JSON.stringify(value);
}

export function badge(text, kind = text) {
  return h('span', { class: `badge badge-${kind}` }, text);
}

export function connection(state) {
  return badge(state === 'Connected' ? 'connected' : 'disconnected');
}

/** "12 s ago" for recent times, the UTC time otherwise; never-set times (year 1) as "never". */
export function ago(iso) {
  const at = Date.parse(iso);
  if (!Number.isFinite(at) || at < Date.UTC(2000, 0, 1)) return 'never';
  const seconds = Math.round((Date.now() - at) / 1000);
  if (seconds < 60) return `${Math.max(0, seconds)} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  return new Date(at)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

export function identityName(deviceId, moduleId) {
  return moduleId === undefined || moduleId === null ? deviceId : `${deviceId}/${moduleId}`;
}

export function twinLink(deviceId, moduleId) {
  const path = moduleId === undefined || moduleId === null ? [deviceId] : [deviceId, moduleId];
  return `#/twin/${path.map(encodeURIComponent).join('/')}`;
}

/** Replaces the children of `parent` (a re-render keeps the element, so focus and scroll stay). */
export function fill(parent, ...children) {
  parent.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
}

export function message(text, kind = 'note') {
  return h('p', { class: kind }, text);
}

/** Runs `refresh` now and every `ms` until `signal` aborts; failures are shown, not thrown. */
export async function every(ms, signal, refresh, onError) {
  while (!signal.aborted) {
    try {
      await refresh();
      onError(undefined);
    } catch (error) {
      if (signal.aborted) return;
      onError(error);
    }
    await sleep(ms, signal);
  }
}

export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** Marks the header's live indicator as fresh (or failing). */
export function markLive(error) {
  const live = document.getElementById('live');
  if (!live) return;
  live.className = error ? 'live live-failing' : 'live live-ok';
  live.textContent = error ? 'not updating' : `live · ${new Date().toLocaleTimeString()}`;
}
