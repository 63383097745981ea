/**
 * Every REST route of the edge, declared once: how its caller authenticates, the permission it
 * needs, its body, query and path, and its answers. The pipeline (pipeline.ts) enforces all of it
 * before the handler runs; the router (index.ts) and the OpenAPI description (openapi.ts) are built
 * from this table, so none of them can drift (edge/README.md has the permission matrix).
 */
import * as P from '@callstack/protocol';
import { ErrorCode } from '@callstack/protocol';
import * as v from 'valibot';
import { changePassword, confirmPasswordReset, logoutEverywhere, requestPasswordReset } from './auth/accountRoutes.ts';
import { login, logout, refresh } from './auth/routes.ts';
import { contactsCreate, contactsDelete, contactsList, contactsUpdate } from './contacts/routes.ts';
import { listCallHistory, listTenantCalls } from './db/callRecords.ts';
import { withDb } from './db/client.ts';
import { listDirectory } from './db/users.ts';
import { nodeEvent, registerNode } from './fleet/routes.ts';
import { json } from './http.ts';
import { openApiDocument } from './openapi.ts';
import { queryParameters as q, route, type RouteSpec } from './pipeline.ts';
import { eraseOwnAccount, eraseUserByAdmin, exportOwnData } from './privacy/routes.ts';
import { recordingGet, recordingsList, recordingTrackFile } from './recordings/routes.ts';
import { connectPresence, connectSignaling, SOCKET_QUERY } from './signaling/connect.ts';
import { ownSipCredentials, rotateOwnSipCredentials, rotateUserSipCredentials } from './sip/routes.ts';
import { acceptInvite, adminUsers, auditLog, createKey, deactivate, inviteUser, listKeys, revokeKey, setRole, signup } from './tenants/routes.ts';
import { turnCredentials } from './turn.ts';

const { conflict, invalidCredentials, invalidState, notFound, rateLimited, mediaUnavailable } = ErrorCode;

export const ROUTES: RouteSpec[] = [
  route({ method: 'get', path: '/api/health', summary: 'Liveness of the edge', tag: 'meta', auth: 'none', success: { status: 200 }, handler: () => json({ status: 'ok' }) }),
  route({ method: 'get', path: '/api/openapi.json', summary: 'This description (OpenAPI 3.1)', tag: 'meta', auth: 'none', success: { status: 200 }, handler: () => json(openApiDocument(ROUTES)) }),

  // ---- sign-in and sessions
  route({ method: 'post', path: '/api/auth/login', summary: 'Sign in with email and password (rate limited per account and IP)', tag: 'auth', auth: 'none', body: P.LoginRequest, success: { status: 200, schema: P.SessionResponse }, errors: [invalidCredentials, rateLimited], handler: login }),
  route({ method: 'post', path: '/api/auth/refresh', summary: 'Rotate a refresh token; reusing a rotated one revokes its family', tag: 'auth', auth: 'refresh_token', body: P.RefreshRequest, success: { status: 200, schema: P.SessionResponse }, handler: refresh }),
  route({ method: 'post', path: '/api/auth/logout', summary: 'Revoke this sign-in', tag: 'auth', auth: 'refresh_token', body: P.RefreshRequest, success: { status: 204 }, handler: logout }),
  route({ method: 'post', path: '/api/auth/logout-all', summary: 'Sign out every device of the caller', tag: 'auth', auth: 'bearer', permission: 'account.manage_own', success: { status: 204 }, handler: logoutEverywhere }),
  route({ method: 'post', path: '/api/auth/password-reset', summary: 'Mail a single-use reset link (always 202)', tag: 'auth', auth: 'none', body: P.PasswordResetRequest, success: { status: 202 }, handler: requestPasswordReset }),
  route({ method: 'post', path: '/api/auth/password-reset/confirm', summary: 'Set a new password with a reset token', tag: 'auth', auth: 'none', body: P.PasswordResetConfirmRequest, success: { status: 204 }, errors: [invalidState], handler: confirmPasswordReset }),

  // ---- organisations
  route({ method: 'post', path: '/api/signup', summary: 'Create an organisation and its first admin', tag: 'organisation', auth: 'none', body: P.SignupRequest, success: { status: 201, schema: P.SessionResponse }, errors: [conflict], handler: signup }),
  route({ method: 'post', path: '/api/invites', summary: 'Invite a colleague (72-hour single-use link)', tag: 'organisation', auth: 'bearer', permission: 'invites.create', body: P.CreateInviteRequest, success: { status: 201, schema: P.InviteResponse }, handler: inviteUser }),
  route({ method: 'post', path: '/api/invites/accept', summary: 'Join an organisation with an invite token', tag: 'organisation', auth: 'none', body: P.AcceptInviteRequest, success: { status: 201, schema: P.SessionResponse }, errors: [notFound, invalidState, conflict], handler: acceptInvite }),
  route({ method: 'get', path: '/api/admin/users', summary: 'All users of the organisation, active or not', tag: 'admin', auth: 'bearer', permission: 'users.read_all', success: { status: 200, schema: P.AdminUsersResponse }, handler: adminUsers }),
  route({ method: 'put', path: '/api/admin/users/:id/role', summary: "Change a user's role", tag: 'admin', auth: 'bearer', permission: 'users.manage', body: P.ChangeRoleRequest, success: { status: 204 }, errors: [conflict], handler: setRole }),
  route({ method: 'post', path: '/api/admin/users/:id/deactivate', summary: 'Deactivate a user and revoke their sessions', tag: 'admin', auth: 'bearer', permission: 'users.manage', success: { status: 204 }, errors: [conflict], handler: deactivate }),
  route({ method: 'post', path: '/api/admin/users/:id/sip-credentials', summary: "Rotate a user's SIP password (shown once)", tag: 'admin', auth: 'bearer', permission: 'users.manage', success: { status: 201, schema: P.RevealedSipCredentials }, handler: rotateUserSipCredentials }),
  route({ method: 'post', path: '/api/admin/users/:id/erase', summary: "Erase a user's personal data (call records stay, anonymised)", tag: 'admin', auth: 'bearer', permission: 'users.manage', success: { status: 204 }, errors: [conflict], handler: eraseUserByAdmin }),
  route({ method: 'get', path: '/api/admin/api-keys', summary: 'API keys of the organisation', tag: 'admin', auth: 'bearer', permission: 'api_keys.manage', success: { status: 200, schema: P.ApiKeysResponse }, handler: listKeys }),
  route({ method: 'post', path: '/api/admin/api-keys', summary: 'Create an API key (shown once)', tag: 'admin', auth: 'bearer', permission: 'api_keys.manage', body: P.CreateApiKeyRequest, success: { status: 201, schema: P.CreatedApiKey }, handler: createKey }),
  route({ method: 'delete', path: '/api/admin/api-keys/:id', summary: 'Revoke an API key', tag: 'admin', auth: 'bearer', permission: 'api_keys.manage', success: { status: 204 }, handler: revokeKey }),
  route({
    method: 'get', path: '/api/admin/calls', summary: "Every call of the organisation, newest first, with both parties' quality (MOS, loss, jitter, RTT)", tag: 'admin', auth: 'bearer', permission: 'calls.read_all',
    query: { limit: q.limit(200, 50) }, success: { status: 200, schema: P.AdminCallsResponse },
    handler: async ({ env, principal, query }) => json({ calls: await withDb(env, (db) => listTenantCalls(db, principal.tenantId, query.limit)) } satisfies P.AdminCallsResponse),
  }),
  route({
    method: 'get', path: '/api/admin/audit', summary: 'The audit log, newest first', tag: 'admin', auth: 'bearer', permission: 'audit.read',
    query: {
      action: q.text(100, 'exact action, e.g. user.role_changed'),
      actor: q.text(128, 'actor id'),
      target: q.text(128, 'target id'),
      before: { schema: v.optional(v.pipe(v.string(), v.regex(/^\d{1,18}$/, 'must be an entry id'))), description: 'entry id to page from' },
      limit: q.limit(200, 50),
    },
    success: { status: 200, schema: P.AuditLogResponse }, handler: auditLog,
  }),

  // ---- the caller
  route({ method: 'get', path: '/api/me', summary: 'Who the credential belongs to', tag: 'me', auth: 'bearer', permission: 'directory.read', success: { status: 200, schema: P.PrincipalView }, handler: ({ principal }) => json(principal satisfies P.PrincipalView) }),
  route({ method: 'delete', path: '/api/me', summary: 'Erase my account (asks for the password)', tag: 'me', auth: 'bearer', permission: 'account.manage_own', body: P.EraseAccountRequest, success: { status: 204 }, errors: [invalidCredentials, conflict], handler: eraseOwnAccount }),
  route({ method: 'get', path: '/api/me/export', summary: 'Everything held about me, as JSON', tag: 'me', auth: 'bearer', permission: 'account.manage_own', success: { status: 200 }, handler: exportOwnData }),
  route({ method: 'put', path: '/api/me/password', summary: 'Change my password; other devices are signed out', tag: 'me', auth: 'bearer', permission: 'account.manage_own', body: P.ChangePasswordRequest, success: { status: 200, schema: P.SessionResponse }, errors: [invalidCredentials, rateLimited], handler: changePassword }),
  route({ method: 'get', path: '/api/me/sip-credentials', summary: 'My SIP username and realm', tag: 'me', auth: 'bearer', permission: 'account.manage_own', success: { status: 200, schema: P.SipCredentialsView }, handler: ownSipCredentials }),
  route({ method: 'post', path: '/api/me/sip-credentials', summary: 'Rotate my SIP password (shown once)', tag: 'me', auth: 'bearer', permission: 'account.manage_own', success: { status: 201, schema: P.RevealedSipCredentials }, handler: rotateOwnSipCredentials }),

  // ---- people and calls
  route({
    method: 'get', path: '/api/users', summary: "The organisation's directory", tag: 'directory', auth: 'bearer', permission: 'directory.read', success: { status: 200, schema: P.DirectoryResponse },
    handler: async ({ env, principal }) => json({ users: await withDb(env, (db) => listDirectory(db, principal.tenantId)) } satisfies P.DirectoryResponse),
  }),
  route({
    method: 'get', path: '/api/contacts', summary: 'My address book', tag: 'contacts', auth: 'bearer', permission: 'contacts.manage_own',
    query: { q: q.text(100, 'search in name, email and number'), favorites: q.flag('`true` for favorites only') }, success: { status: 200, schema: P.ContactsResponse }, handler: contactsList,
  }),
  route({ method: 'post', path: '/api/contacts', summary: 'Add a colleague or an E.164 number', tag: 'contacts', auth: 'bearer', permission: 'contacts.manage_own', body: P.CreateContactRequest, success: { status: 201, schema: P.ContactView }, errors: [conflict], handler: contactsCreate }),
  route({ method: 'patch', path: '/api/contacts/:id', summary: 'Rename, renumber or (un)favorite a contact', tag: 'contacts', auth: 'bearer', permission: 'contacts.manage_own', body: P.UpdateContactRequest, success: { status: 200, schema: P.ContactView }, errors: [conflict], handler: contactsUpdate }),
  route({ method: 'delete', path: '/api/contacts/:id', summary: 'Remove a contact', tag: 'contacts', auth: 'bearer', permission: 'contacts.manage_own', success: { status: 204 }, handler: contactsDelete }),
  route({
    method: 'get', path: '/api/calls', summary: 'My call history, with my own call quality', tag: 'calls', auth: 'bearer', permission: 'calls.read_own', success: { status: 200, schema: P.CallHistoryResponse },
    handler: async ({ env, principal }) => json({ calls: await withDb(env, (db) => listCallHistory(db, principal.tenantId, principal.userId)) } satisfies P.CallHistoryResponse),
  }),
  route({
    method: 'get', path: '/api/turn-credentials', summary: 'Short-lived TURN credentials and ICE servers', tag: 'calls', auth: 'bearer', permission: 'turn.use', success: { status: 200, schema: P.TurnCredentialsResponse },
    handler: async ({ env, principal }) => json(await turnCredentials(env, principal.userId)),
  }),
  route({ method: 'get', path: '/api/recordings', summary: 'Conference recordings I may see (rooms I was in; all for operators and admins), with their tracks', tag: 'recordings', auth: 'bearer', permission: 'recordings.read_own', success: { status: 200, schema: P.RecordingsResponse }, handler: recordingsList }),
  route({ method: 'get', path: '/api/recordings/:id', summary: 'One recording with its tracks', tag: 'recordings', auth: 'bearer', permission: 'recordings.read_own', success: { status: 200, schema: P.RecordingView }, handler: recordingGet }),
  route({ method: 'get', path: '/api/recordings/:id/tracks/:trackId/file', summary: "A track's file (WebM/Ogg/Matroska), or a redirect to a 5-minute storage URL; audited", tag: 'recordings', auth: 'bearer', permission: 'recordings.read_own', success: { status: 200, description: 'The file (attachment), or 302 to a presigned S3 URL' }, errors: [mediaUnavailable], handler: recordingTrackFile }),
  route({ method: 'get', path: '/api/signaling', summary: 'The signaling WebSocket (`?token=&device=`; messages in protocol/src/signaling.ts)', tag: 'realtime', auth: 'query_token', query: SOCKET_QUERY, success: { status: 101, description: 'WebSocket upgrade' }, handler: connectSignaling }),
  route({ method: 'get', path: '/api/presence', summary: 'Live presence of the organisation (WebSocket; messages in protocol/src/presence.ts)', tag: 'realtime', auth: 'query_token', query: SOCKET_QUERY, success: { status: 101, description: 'WebSocket upgrade' }, handler: connectPresence }),

  // ---- media fleet (nodes -> edge, signed with MEDIA_CONTROL_SECRET)
  route({ method: 'post', path: '/api/fleet/nodes', summary: 'A node registers (every minute, and when it starts draining); `t=,v1=` signature', tag: 'fleet', auth: 'node_registration', body: P.NodeRegistration, success: { status: 204 }, handler: registerNode }),
  route({ method: 'post', path: '/api/fleet/events', summary: "A media node's event (speaker, producer closed, worker died); `t=,n=,v1=` signature", tag: 'fleet', auth: 'node_event', body: P.MediaNodeEvent, success: { status: 204 }, errors: [conflict], handler: nodeEvent }),
];
