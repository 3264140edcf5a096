// The BigBlueButton feature's public entry.
export { createBbbFeature, type BbbFeatureDeps } from './createBbbFeature.js';
