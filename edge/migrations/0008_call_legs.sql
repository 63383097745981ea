-- What kind of device each side of a call used (a browser, or a SIP phone through the gateway), the
-- SIP final status the gateway reported when a phone declined or gave up, and the post-dial delay
-- (from the invite to the callee's devices ringing). Older rows are web calls without a delay.
alter table call_records
  add column caller_leg text not null default 'web' check (caller_leg in ('web', 'sip')),
  add column callee_leg text check (callee_leg in ('web', 'sip')),
  add column sip_status integer check (sip_status between 100 and 699),
  add column post_dial_delay_ms integer check (post_dial_delay_ms >= 0);
