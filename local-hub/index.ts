/** The embedded local IoT hub's public entry point (used by `npm run hub`, the stack and tests). */
export { type LocalHub, type LocalHubOptions, resolveLocalHubOptions, startLocalHub } from './local-hub';
