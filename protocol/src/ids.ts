/** The id and port shapes every schema shares, defined once. */
import * as v from 'valibot';

/** Ids the edge mints or accepts (users, devices, calls, rooms, peers, recordings): URL- and log-safe. */
export const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(64), v.regex(/^[A-Za-z0-9_-]+$/));
/** mediasoup's ids are UUIDs; the node rejects anything else before a lookup. */
export const MediaId = v.pipe(v.string(), v.uuid());
export const Port = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535));
