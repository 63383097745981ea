-- Recorded 1:1 calls run through a conference room: their recording names the call it is of
-- (null for a conference's recording). No foreign key: the call's CDR row is written when the
-- call ends, after the recording started.
alter table recordings add column call_id text;
