// The contacts feature's public entry.
export { createContactsFeature, type ContactsFeatureDeps } from './createContactsFeature.js';
