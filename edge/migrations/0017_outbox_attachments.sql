-- Issue 13: mail may carry files (an invoice's PDF), kept with the message until it is sent:
-- [{"filename": "...", "contentType": "...", "content": "<base64>"}].
alter table outbox add column attachments jsonb not null default '[]';
