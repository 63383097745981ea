export * from './errors.ts';
export * from './signaling.ts';
export * from './api.ts';
export * from './mediaControl.ts';
export * from './controlSignature.ts';
