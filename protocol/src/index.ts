export * from './errors.ts';
export * from './signaling.ts';
export * from './api.ts';
