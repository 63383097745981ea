/** The conference module's public surface (one unit per file beside this one). */
export { Conference, PROBE_AFTER_MS, PROBE_EVERY_MS, WATCHDOG_INTERVAL_MS } from './Conference.ts';
export type { ConferenceOptions, ConferenceStats, InboundStats, OutboundStats } from './ConferenceTypes.ts';
export { roomErrorMessage, RoomRequestError, type RoomErrorCode } from './errors.ts';
export { CAMERA_CONSTRAINTS, CAMERA_ENCODINGS, preferredSpatialLayer, spatialLayersOf, type TileView } from './layers.ts';
export { createRoom, REQUEST_TIMEOUT_MS, RoomRequests, type RoomRequestInput, type RoomSignaling } from './RoomRequests.ts';
export { initialConference, roomReducer, type ConferencePhase, type ConferenceState, type RemoteMedia } from './roomState.ts';
export { StallDetector } from './StallDetector.ts';
