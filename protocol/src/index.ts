export * from './errors.ts';
export * from './signaling.ts';
export * from './presence.ts';
export * from './api.ts';
export * from './permissions.ts';
export * from './quality.ts';
export * from './mediaControl.ts';
export * from './controlSignature.ts';
