/**
 * The room's side of the control API: requests to its node, signed with the fleet's secret. The
 * node knows the room by the Room object's id, which the Worker turns back into a stub when the
 * node's events arrive.
 */
import { ErrorCode, type ControlRequestInput, type ControlResponses } from '@callstack/protocol';
import { config } from '../config.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { controlRequest } from './control.ts';

export class RoomNode {
  constructor(
    private readonly env: Env,
    /** The node's name for this room: the object's id. */
    readonly roomId: string,
  ) {}

  async send<R extends ControlRequestInput>(node: { controlUrl: string }, request: R): Promise<ControlResponses[R['type']]> {
    return controlRequest(node.controlUrl, this.secret, request);
  }

  private get secret(): string {
    const secret = config(this.env).mediaControlSecret;
    if (!secret) throw new ApiError(ErrorCode.mediaUnavailable, 'conference rooms are not configured');
    return secret;
  }
}
