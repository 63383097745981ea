import type Srf from 'drachtio-srf';

/**
 * createUAC's `cbRequest`, as drachtio-srf calls it: `cbRequest(error, request)` (lib/srf.js),
 * though its bundled types declare `(request)`. Taking the types at their word leaves the request
 * null, and every CANCEL of it silently unsent.
 */
export function onRequestSent(keep: (request: Srf.SrfRequest) => void): (request: Srf.SrfRequest) => void {
  const callback = (_error: unknown, request: Srf.SrfRequest) => keep(request);
  return callback as unknown as (request: Srf.SrfRequest) => void;
}
