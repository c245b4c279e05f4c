/**
 * The web view's entry: the sign-in form, the hash router (#/, #/twin/<device>[/<module>], #/telemetry,
 * #/configurations) and the header. Each page runs until the next navigation aborts it.
 */
import { describeError, getJson, useCredential } from './api.js';
import { forgetCredential, loadCredential, parseCredential, saveCredential } from './auth.js';
import { configurationsPage, identitiesPage, telemetryPage } from './pages.js';
import { fill } from './render.js';
import { twinPage } from './twin-page.js';

const $ = (id) => document.getElementById(id);
let running = null;

function showLogin(error = '') {
  running?.abort();
  running = null;
  useCredential(null);
  $('login').hidden = false;
  $('nav').hidden = true;
  $('session').hidden = true;
  fill($('page'));
  $('login-error').textContent = error;
  $('credential').focus();
}

async function signIn(event) {
  event.preventDefault();
  let credential;
  try {
    credential = parseCredential($('credential').value);
  } catch (error) {
    showLogin(error.message);
    return;
  }
  useCredential(credential);
  try {
    await getJson('/local-hub/view/api/identities');
  } catch (error) {
    showLogin(
      error?.status === 401
        ? 'The hub refused this credential: a wrong key, an expired token, a HostName that is not this hub, or a policy without read rights.'
        : describeError(error),
    );
    return;
  }
  saveCredential(credential);
  $('credential').value = '';
  route();
}

function route() {
  running?.abort();
  const credential = loadCredential();
  if (!credential) {
    showLogin();
    return;
  }
  useCredential(credential);
  running = new AbortController();
  $('login').hidden = true;
  $('nav').hidden = false;
  $('session').hidden = false;
  $('who').textContent = `policy ${credential.keyName}`;
  const [page = '', ...ids] = (location.hash || '#/').slice(2).split('/').map(safeDecode);
  for (const link of $('nav').querySelectorAll('a')) {
    link.classList.toggle('active', link.dataset.page === (page || 'identities'));
  }
  const container = $('page');
  const { signal } = running;
  if (page === 'twin' && ids[0]) twinPage(container, { deviceId: ids[0], moduleId: ids[1] }, signal);
  else if (page === 'telemetry') telemetryPage(container, signal);
  else if (page === 'configurations') configurationsPage(container, signal);
  else identitiesPage(container, signal);
}

function safeDecode(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

$('login-form').addEventListener('submit', signIn);
$('sign-out').addEventListener('click', () => {
  forgetCredential();
  showLogin();
});
window.addEventListener('hashchange', route);
window.addEventListener('credential-expired', (event) => {
  forgetCredential();
  showLogin(event.detail);
});
route();
