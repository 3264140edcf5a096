// The rooms feature's public entry.
export { createRoomsFeature, type RoomsFeatureDeps } from './createRoomsFeature.js';
export { parseNick, parseRoom, type RoomNaming } from './names.js';
