// The site sync feature's public entry (docs/site-sync.md).
export { createSyncFeature, type SyncFeatureDeps } from './createSyncFeature.js';
export { escapeLocal, unescapeLocal, proxyJid, homeJid } from './addresses.js';
