/**
 * The call state machine (a pure reducer) and the controller that drives it from signaling frames,
 * user actions and the RTCPeerConnection. No UI here.
 *
 * A recorded call (protocol/src/signaling.ts) has no peer connection: once `call.accepted` names
 * the call's room, the controller runs a `Conference` there and shows the other party's media
 * from it; hang-up leaves the room. The conference module (and mediasoup-client with it) is fetched
 * on demand, when a recorded call starts ringing.
 */
import { Emitter, assertNever, type ClientMessage, type EndReason, type IceCandidate, type Party, type QualityUpdate } from '@callstack/protocol';
import type { Conference } from './conference/Conference.ts';
import { QualityMonitor } from './quality.ts';
import type { CallMessage, HelloMessage, SignalingClient, SignalingErrorMessage } from './signaling.ts';

export type LivePhase = 'calling' | 'ringing' | 'incoming' | 'connecting' | 'active';
export type CallPhase = 'idle' | LivePhase | 'ended' | 'failed';

/** How long the end of a call stays on screen before the panel returns to idle. */
export const END_DISPLAY_MS = 4000;

export interface CallState {
  phase: CallPhase;
  /** The current call, or the last one once idle again. */
  callId: string | null;
  direction: 'outgoing' | 'incoming' | null;
  peer: Party | null;
  /** Edge timestamp (ms) of the answer; the in-call timer counts from it. */
  answeredAt: number | null;
  /** Set in phase `ended`. */
  reason: EndReason | null;
  durationMs: number;
  /** Set in phase `failed`. */
  error: string | null;
  /** A request this device sent and the edge has not answered yet. */
  pending: 'accept' | 'end' | null;
  muted: boolean;
  /** The other side said it muted its microphone (`call.mute`). */
  peerMuted: boolean;
  cameraOff: boolean;
  /** This side put the call on hold: it still sends, the other side does not (SDP `sendonly`). */
  onHold: boolean;
  /** The call is (or will be, once answered) recorded. */
  record: boolean;
  /** A recorded call's room, once answered: the media runs there. */
  roomId: string | null;
  /** Idle: how the previous call ended, shown until the next call or until dismissed. */
  last: CallOutcome | null;
}

/** A finished call as the person sees it afterwards: who, which way, and how it ended. */
export interface CallOutcome {
  peer: Party;
  direction: 'outgoing' | 'incoming';
  /** Null when the call failed (the `error` says why). */
  reason: EndReason | null;
  error: string | null;
  durationMs: number;
}

export const idleCall: CallState = {
  phase: 'idle',
  callId: null,
  direction: null,
  peer: null,
  answeredAt: null,
  reason: null,
  durationMs: 0,
  error: null,
  pending: null,
  muted: false,
  peerMuted: false,
  cameraOff: false,
  onHold: false,
  record: false,
  roomId: null,
  last: null,
};

/** The outcome of a call in phase `ended` or `failed`; null otherwise. */
export function outcomeOf(state: CallState): CallOutcome | null {
  if ((state.phase !== 'ended' && state.phase !== 'failed') || !state.peer || !state.direction) return null;
  return { peer: state.peer, direction: state.direction, reason: state.reason, error: state.error, durationMs: state.durationMs };
}

export type CallAction =
  | { type: 'dial'; callId: string; peer: Party; record?: boolean }
  | { type: 'incoming'; callId: string; from: Party; record?: boolean }
  /** Attended transfer: a new call takes over the current one (`replaces`), answered at once. */
  | { type: 'takeover'; callId: string; replaces: string; from: Party }
  | { type: 'reset' }
  /** The person closed the outcome of the last call (or a failed call's message). */
  | { type: 'dismiss' }
  | { type: 'toggle'; key: 'muted' | 'cameraOff' | 'onHold' }
  | { type: 'ringing'; callId: string }
  | { type: 'accepting'; callId: string }
  | { type: 'accepted'; callId: string; peer: Party; answeredAt: number; roomId?: string }
  | { type: 'connected'; callId: string }
  | { type: 'peer-muted'; callId: string; muted: boolean }
  | { type: 'ending'; callId: string }
  | { type: 'ended'; callId: string; reason: EndReason; durationMs: number }
  | { type: 'failed'; callId: string; message: string };

export function isLive(phase: CallPhase): phase is LivePhase {
  return phase !== 'idle' && phase !== 'ended' && phase !== 'failed';
}

/** The message that ends a call in this phase: reject before answering, cancel before being answered. */
export function endMessageType(phase: LivePhase): 'call.reject' | 'call.cancel' | 'call.hangup' {
  switch (phase) {
    case 'incoming':
      return 'call.reject';
    case 'calling':
    case 'ringing':
      return 'call.cancel';
    case 'connecting':
    case 'active':
      return 'call.hangup';
    default:
      return assertNever(phase);
  }
}

/** Returns `state` itself when the action does not apply, so callers can tell a no-op apart. */
export function callReducer(state: CallState, action: CallAction): CallState {
  switch (action.type) {
    // A device in a call ignores new ones: the edge answers `busy` or another device picks up.
    case 'dial':
      return isLive(state.phase)
        ? state
        : { ...idleCall, phase: 'calling', callId: action.callId, direction: 'outgoing', peer: action.peer, record: action.record ?? false };
    case 'incoming':
      return isLive(state.phase)
        ? state
        : { ...idleCall, phase: 'incoming', callId: action.callId, direction: 'incoming', peer: action.from, record: action.record ?? false };
    case 'takeover':
      return state.callId === action.replaces && (state.phase === 'connecting' || state.phase === 'active')
        ? { ...idleCall, phase: 'incoming', callId: action.callId, direction: 'incoming', peer: action.from, pending: 'accept' }
        : state;
    case 'reset':
      return state.phase === 'ended' ? { ...idleCall, callId: state.callId, last: outcomeOf(state) } : state;
    case 'dismiss':
      if (state.phase === 'idle') return state.last ? { ...state, last: null } : state;
      return state.phase === 'ended' || state.phase === 'failed' ? { ...idleCall, callId: state.callId } : state;
    case 'toggle':
      return state.phase === 'connecting' || state.phase === 'active' ? { ...state, [action.key]: !state[action.key] } : state;
  }
  // Everything else is about one call and is stale once another call is current.
  if (action.callId !== state.callId || !isLive(state.phase)) return state;
  switch (action.type) {
    case 'ringing':
      return state.phase === 'calling' ? { ...state, phase: 'ringing' } : state;
    case 'accepting':
      return state.phase === 'incoming' && state.pending === null ? { ...state, pending: 'accept' } : state;
    case 'accepted':
      return state.phase === 'connecting' || state.phase === 'active'
        ? state
        : { ...state, phase: 'connecting', peer: action.peer, answeredAt: action.answeredAt, pending: null, roomId: action.roomId ?? null };
    case 'connected':
      return state.phase === 'connecting' ? { ...state, phase: 'active' } : state;
    case 'peer-muted':
      return (state.phase === 'connecting' || state.phase === 'active') && state.peerMuted !== action.muted ? { ...state, peerMuted: action.muted } : state;
    case 'ending':
      return { ...state, pending: 'end' };
    case 'ended':
      return { ...state, phase: 'ended', reason: action.reason, durationMs: action.durationMs, pending: null };
    case 'failed':
      return { ...state, phase: 'failed', error: action.message, pending: null };
    default:
      return assertNever(action);
  }
}

export interface CallControllerOptions {
  signaling: Pick<SignalingClient, 'on' | 'send' | 'status'>;
  /** A consultation (attended transfer): it places its one call and never answers new ones. */
  consultation?: boolean;
  /** ICE servers for the next peer connection (may be empty: host candidates only). */
  iceServers: () => Promise<RTCIceServer[]>;
  iceTransportPolicy: () => RTCIceTransportPolicy;
}

interface LocalMedia {
  stream: MediaStream;
  iceServers: RTCIceServer[];
}

/** The conference module, its own chunk: most calls are peer to peer and never need mediasoup-client. */
const loadConference = () => import('./conference/Conference.ts').then((module) => module.Conference);
/** Fetched as soon as a recorded call is dialled or rings, so it is there by `call.accepted`. */
const prefetchConference = () => void loadConference().catch(() => undefined);

const OFFLINE_MESSAGE = 'You’re offline. Try again once reconnected.';
/** The peer of a number being dialled, until the edge's `call.ringing` or `call.accepted` names the line. */
const DIALLED_PEER_ID = 'pstn-dialled';

/** Drives one call at a time through `callReducer`; emits `change` after every state or media change. */
export class CallController extends Emitter<{ change: [] }> {
  state: CallState = idleCall;
  localStream: MediaStream | null = null;
  remoteStream: MediaStream | null = null;
  /** The current call's connection, kept (closed) after the call until the next one starts. */
  peerConnection: RTCPeerConnection | null = null;
  /** A recorded call's room, while the call runs. */
  conference: Conference | null = null;
  /** The consultation call of an attended transfer, while this call is held for it. */
  consultation: CallController | null = null;
  private media: Promise<LocalMedia> | null = null;
  private peerReady: Promise<RTCPeerConnection | null> | null = null;
  /** Remote candidates that arrived before the remote description. */
  private remoteCandidates: RTCIceCandidateInit[] = [];
  /** Refs of this call's requests, to match `error` frames to them. */
  private refs = new Set<string>();
  private refCount = 0;
  private resetTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly unsubscribe: (() => void)[];
  /** Reports the connection's stats while the call's media is connected. */
  private quality: QualityMonitor | null = null;

  constructor(private readonly options: CallControllerOptions) {
    super();
    this.unsubscribe = [
      options.signaling.on('call', (message) => this.onCallMessage(message)),
      options.signaling.on('hello', (message) => this.onHello(message)),
      options.signaling.on('error', (message) => this.onError(message)),
    ];
  }

  /**
   * `record`: the call runs through the SFU and is recorded (the callee is told first).
   * `replaces`: attended transfer, the call of the callee's this one takes over.
   */
  call(peer: Party, record = false, replaces?: string): void {
    const callId = crypto.randomUUID();
    if (!this.dispatch({ type: 'dial', callId, peer, record })) return;
    this.begin();
    if (record) prefetchConference();
    const invite: ClientMessage = {
      type: 'call.invite',
      ref: this.ref(),
      callId,
      to: peer.userId,
      media: { audio: true, video: true },
      record,
      ...(replaces ? { replaces } : {}),
    };
    if (!this.options.signaling.send(invite)) this.dispatch({ type: 'failed', callId, message: OFFLINE_MESSAGE });
  }

  /**
   * A phone number (typed, or a contact's): the edge decides and places it through the carrier
   * trunks. Until the edge names the line it reaches, the peer is the number as typed.
   */
  dial(number: string): void {
    const callId = crypto.randomUUID();
    if (!this.dispatch({ type: 'dial', callId, peer: { userId: DIALLED_PEER_ID, displayName: number.trim() } })) return;
    this.begin();
    const dial: ClientMessage = { type: 'call.dial', ref: this.ref(), callId, number: number.trim(), media: { audio: true, video: false } };
    if (!this.options.signaling.send(dial)) this.dispatch({ type: 'failed', callId, message: OFFLINE_MESSAGE });
  }

  accept(): void {
    const { callId } = this.state;
    if (!callId || !this.dispatch({ type: 'accepting', callId })) return;
    // Open the camera while the edge confirms, so the callee is ready when the offer arrives.
    // Failures surface where connect() awaits the same promise. A recorded call's conference
    // opens its own.
    if (!this.state.record) this.localMedia().catch(() => undefined);
    if (!this.options.signaling.send({ type: 'call.accept', ref: this.ref(), callId })) {
      this.dispatch({ type: 'failed', callId, message: OFFLINE_MESSAGE });
    }
  }

  /** Rejects, cancels or hangs up, whichever fits the phase; the edge's `call.ended` settles the state. */
  end(): void {
    const { callId, phase, pending } = this.state;
    if (!callId || !isLive(phase) || pending === 'end') return;
    this.release();
    if (this.options.signaling.send({ type: endMessageType(phase), ref: this.ref(), callId })) {
      this.dispatch({ type: 'ending', callId });
    } else {
      this.dispatch({ type: 'ended', callId, reason: 'connection-lost', durationMs: 0 });
    }
  }

  /** Closes the last call's outcome (or a failed call's message), back to a plain idle panel. */
  dismiss(): void {
    clearTimeout(this.resetTimer);
    this.dispatch({ type: 'dismiss' });
  }

  /** The edge's latest rating of this call's media; null until the first report was rated. */
  get qualityUpdate(): QualityUpdate | null {
    return this.conference ? this.conference.state.quality : (this.quality?.latest ?? null);
  }

  /** Whether the call's room is recording right now (a recorded call shows it). */
  get recording(): boolean {
    return (this.conference?.state.recording ?? null) !== null;
  }

  toggleMute(): void {
    if (!this.dispatch({ type: 'toggle', key: 'muted' })) return;
    this.applyTrackState();
    const { callId, muted } = this.state;
    // No ref: telling the other side is a courtesy, and its failure must not end the call.
    if (callId) this.options.signaling.send({ type: 'call.mute', callId, muted });
  }

  /**
   * Keypad digits as RFC 4733 telephone-events on the audio sender: what a desk phone or an IVR
   * behind the SIP edge hears. Returns false when the call has no audio sender that can send them.
   */
  sendDigits(digits: string): boolean {
    const sender = this.peerConnection?.getSenders().find((each) => each.track?.kind === 'audio');
    if (!sender?.dtmf?.canInsertDTMF) return false;
    sender.dtmf.insertDTMF(sender.dtmf.toneBuffer + digits, 120, 60);
    return true;
  }

  /** Blind transfer: the other side is asked to call `to`, and this call ends `transferred`. */
  transfer(to: Party): void {
    const { callId, phase } = this.state;
    if (!callId || phase !== 'active') return;
    this.options.signaling.send({ type: 'call.transfer', ref: this.ref(), callId, to: to.userId });
  }

  /** Attended transfer, first step: this call is held while a second call asks `to` first. */
  consult(to: Party): void {
    const { callId, phase, roomId } = this.state;
    if (!callId || phase !== 'active' || roomId || this.consultation) return;
    if (!this.state.onHold) void this.toggleHold();
    const consultation = new CallController({ ...this.options, consultation: true });
    this.consultation = consultation;
    consultation.on('change', () => {
      // Over (transferred, refused, hung up): the held call is this device's only call again.
      if (consultation.state.phase === 'idle' && this.consultation === consultation) {
        this.consultation = null;
        consultation.dispose();
      }
      this.emit('change');
    });
    consultation.call(to);
  }

  /** Attended transfer, last step: the held party takes this device's place in the consultation. */
  completeTransfer(): void {
    const consulted = this.consultation?.state;
    const { callId, phase } = this.state;
    if (!callId || phase !== 'active' || !consulted?.callId || consulted.phase !== 'active' || !consulted.peer) return;
    this.options.signaling.send({ type: 'call.transfer', ref: this.ref(), callId, to: consulted.peer.userId, replaces: consulted.callId });
  }

  /** Ends the consultation and takes the held call back. */
  cancelConsultation(): void {
    if (!this.consultation) return;
    this.consultation.end();
    if (this.state.onHold) void this.toggleHold();
  }

  /**
   * Hold or resume: offers again with every transceiver `sendonly` (or back to `sendrecv`), the
   * way a desk phone holds; the other side answers `recvonly` and stops sending. Peer-to-peer
   * calls only (a recorded call's media runs through its room).
   */
  async toggleHold(): Promise<void> {
    const { callId, roomId } = this.state;
    const pc = this.peerConnection;
    if (!callId || roomId || !pc || !this.dispatch({ type: 'toggle', key: 'onHold' })) return;
    for (const transceiver of pc.getTransceivers()) {
      if (transceiver.currentDirection !== 'stopped') transceiver.direction = this.state.onHold ? 'sendonly' : 'sendrecv';
    }
    try {
      await pc.setLocalDescription();
      this.options.signaling.send({ type: 'call.offer', ref: this.ref(), callId, sdp: localSdp(pc) });
    } catch {
      this.abort(callId, 'Could not agree on media with the other side.');
    }
  }

  toggleCamera(): void {
    this.dispatch({ type: 'toggle', key: 'cameraOff' });
    this.applyTrackState();
  }

  dispose(): void {
    this.consultation?.dispose();
    this.consultation = null;
    this.end();
    this.release();
    clearTimeout(this.resetTimer);
    for (const unsubscribe of this.unsubscribe) unsubscribe();
  }

  private onCallMessage(message: CallMessage): void {
    switch (message.type) {
      case 'call.incoming':
        if (message.replaces) this.takeOver(message.callId, message.replaces, message.from);
        else if (!this.options.consultation && this.dispatch({ type: 'incoming', callId: message.callId, from: message.from, record: message.record })) {
          this.begin();
          if (message.record) prefetchConference();
        }
        break;
      case 'call.ringing':
        this.dispatch({ type: 'ringing', callId: message.callId });
        break;
      case 'call.accepted':
        if (this.dispatch({ type: 'accepted', callId: message.callId, peer: message.peer, answeredAt: message.answeredAt, roomId: message.roomId })) {
          if (message.roomId) this.joinRoom(message.callId, message.roomId);
          else if (message.sdp) {
            // The callee offered (a desk phone): answer it instead of making an offer.
            this.peerReady = this.connect(message.callId, 'callee');
            void this.onOffer(message.callId, message.sdp);
          } else this.peerReady = this.connect(message.callId, message.role);
        }
        break;
      case 'call.ended':
        // Transfer: the other side asked us to call someone else next, as a desk phone would.
        if (this.dispatch({ type: 'ended', callId: message.callId, reason: message.reason, durationMs: message.durationMs }) && message.transferTo) {
          this.call(message.transferTo, false, message.replaces);
        }
        break;
      case 'call.offer':
        void this.onOffer(message.callId, message.sdp);
        break;
      case 'call.answer':
        void this.onAnswer(message.callId, message.sdp);
        break;
      case 'call.ice':
        this.onRemoteCandidate(message.callId, message.candidate);
        break;
      case 'call.mute':
        this.dispatch({ type: 'peer-muted', callId: message.callId, muted: message.muted });
        break;
      default:
        assertNever(message);
    }
  }

  /**
   * Attended transfer: a call that takes over this device's current call (the user agreed in it)
   * is answered at once; the old call's media closes, and its end arrives for a call no longer current.
   */
  private takeOver(callId: string, replaces: string, from: Party): void {
    if (this.state.callId !== replaces || !isLive(this.state.phase)) return;
    this.release();
    if (!this.dispatch({ type: 'takeover', callId, replaces, from })) return;
    this.begin();
    this.localMedia().catch(() => undefined);
    if (!this.options.signaling.send({ type: 'call.accept', ref: this.ref(), callId })) this.dispatch({ type: 'failed', callId, message: OFFLINE_MESSAGE });
  }

  /** After a reconnect: a call the edge no longer lists ended while this device was away. */
  private onHello(message: HelloMessage): void {
    const { callId, phase } = this.state;
    if (callId && isLive(phase) && !message.activeCalls.some((call) => call.callId === callId)) {
      this.dispatch({ type: 'ended', callId, reason: 'connection-lost', durationMs: 0 });
    }
  }

  private onError(message: SignalingErrorMessage): void {
    if (message.ref !== undefined && this.refs.has(message.ref) && this.state.callId) {
      this.abort(this.state.callId, message.message);
    } else {
      console.warn(`signaling: ${message.code}: ${message.message}`);
    }
  }

  /** Both sides: media, then the peer connection; the caller also makes the offer. */
  private async connect(callId: string, role: 'caller' | 'callee'): Promise<RTCPeerConnection | null> {
    try {
      const { stream, iceServers } = await this.localMedia();
      const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: this.options.iceTransportPolicy() });
      this.peerConnection = pc;
      for (const track of stream.getTracks()) pc.addTrack(track, stream);
      pc.onicecandidate = ({ candidate }) => {
        // An empty candidate string marks the end of gathering; the protocol has no frame for it.
        if (candidate?.candidate) this.options.signaling.send({ type: 'call.ice', callId, candidate: toWire(candidate) });
      };
      pc.ontrack = ({ streams, track }) => {
        this.remoteStream = streams[0] ?? new MediaStream([track]);
        this.emit('change');
      };
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === 'connected') {
          this.dispatch({ type: 'connected', callId });
          this.monitorQuality(callId, pc);
        } else if (pc.connectionState === 'failed') this.abort(callId, 'The media connection failed.');
      };
      if (role === 'caller') {
        await pc.setLocalDescription();
        this.options.signaling.send({ type: 'call.offer', ref: this.ref(), callId, sdp: localSdp(pc) });
      }
      return pc;
    } catch (error) {
      this.abort(callId, mediaErrorMessage(error));
      return null;
    }
  }

  /** A recorded call: the conference's media stands in for the peer connection's. */
  private joinRoom(callId: string, roomId: string): void {
    const { signaling, iceServers, iceTransportPolicy } = this.options;
    loadConference().then(
      (Conference) => {
        // The call ended (or another began) while the module loaded: there is no room to join.
        if (callId !== this.state.callId || !isLive(this.state.phase) || this.conference) return;
        const conference = new Conference(roomId, { signaling, iceServers, iceTransportPolicy });
        this.conference = conference;
        conference.on('change', () => {
          if (this.conference !== conference) return;
          const { phase, error } = conference.state;
          if (phase === 'failed') {
            this.abort(callId, error ?? 'The call could not be set up.');
            return;
          }
          this.localStream = conference.localStream;
          this.remoteStream = remoteStreamOf(conference, this.remoteStream);
          if (phase === 'joined') this.dispatch({ type: 'connected', callId });
          this.applyTrackState();
          this.emit('change');
        });
        void conference.join();
      },
      () => this.abort(callId, 'The call could not be set up: check your connection.'),
    );
  }

  private monitorQuality(callId: string, pc: RTCPeerConnection): void {
    if (this.quality || callId !== this.state.callId || !isLive(this.state.phase)) return;
    this.quality = new QualityMonitor({ signaling: this.options.signaling, scope: { kind: 'call', callId }, sources: () => [pc] });
    this.quality.on('update', () => this.emit('change'));
  }

  private async onOffer(callId: string, sdp: string): Promise<void> {
    const pc = await this.peerFor(callId);
    if (!pc) return;
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp });
      this.flushCandidates(pc);
      await pc.setLocalDescription();
      this.options.signaling.send({ type: 'call.answer', ref: this.ref(), callId, sdp: localSdp(pc) });
    } catch {
      this.abort(callId, 'Could not agree on media with the other side.');
    }
  }

  private async onAnswer(callId: string, sdp: string): Promise<void> {
    const pc = await this.peerFor(callId);
    if (!pc) return;
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp });
      this.flushCandidates(pc);
    } catch {
      this.abort(callId, 'Could not agree on media with the other side.');
    }
  }

  private onRemoteCandidate(callId: string, candidate: IceCandidate): void {
    if (callId !== this.state.callId || !isLive(this.state.phase)) return;
    const init: RTCIceCandidateInit = {
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid ?? null,
      sdpMLineIndex: candidate.sdpMLineIndex ?? null,
      usernameFragment: candidate.usernameFragment ?? null,
    };
    const pc = this.peerConnection;
    if (pc?.remoteDescription) addCandidate(pc, init);
    else this.remoteCandidates.push(init);
  }

  private flushCandidates(pc: RTCPeerConnection): void {
    for (const candidate of this.remoteCandidates.splice(0)) addCandidate(pc, candidate);
  }

  /** The current call's peer connection once set up; null for frames of any other call. */
  private async peerFor(callId: string): Promise<RTCPeerConnection | null> {
    return callId === this.state.callId && this.peerReady ? this.peerReady : null;
  }

  /** Camera, microphone and ICE servers for the current call, fetched once. */
  private localMedia(): Promise<LocalMedia> {
    if (this.media) return this.media;
    const media = Promise.all([
      openCameraAndMicrophone(),
      // Without TURN, host candidates still connect on the same network.
      this.options.iceServers().catch((error: unknown) => {
        console.warn('call: no ICE servers, trying host candidates only', error);
        return [];
      }),
    ]).then(([stream, iceServers]) => {
      if (this.media !== media) {
        // The call ended while the browser was asking for the camera.
        for (const track of stream.getTracks()) track.stop();
        throw new Error('call is over');
      }
      this.localStream = stream;
      this.applyTrackState();
      this.emit('change');
      return { stream, iceServers };
    });
    this.media = media;
    return media;
  }

  private applyTrackState(): void {
    const { conference } = this;
    if (conference) {
      // Pausing the producers tells the room (and stops the recording's track from growing).
      if (conference.state.micOn === this.state.muted) conference.setMic(!this.state.muted);
      if (conference.state.cameraOn === this.state.cameraOff) conference.setCamera(!this.state.cameraOff);
      return;
    }
    for (const track of this.localStream?.getAudioTracks() ?? []) track.enabled = !this.state.muted;
    for (const track of this.localStream?.getVideoTracks() ?? []) track.enabled = !this.state.cameraOff;
  }

  /** Ends the call on both sides because of a local failure. */
  private abort(callId: string, message: string): void {
    const { phase } = this.state;
    if (callId !== this.state.callId || !isLive(phase)) return;
    // Still 'calling' means the edge refused the invite itself: there is no call to end there.
    if (phase !== 'calling') this.options.signaling.send({ type: endMessageType(phase), callId });
    this.dispatch({ type: 'failed', callId, message });
  }

  private begin(): void {
    clearTimeout(this.resetTimer);
    this.refs.clear();
    this.peerConnection = null;
  }

  /** Stops the camera and closes the connection; `peerConnection` stays readable. */
  private release(): void {
    for (const track of this.localStream?.getTracks() ?? []) track.stop();
    this.peerConnection?.close();
    void this.conference?.leave();
    this.conference = null;
    this.quality?.stop();
    this.quality = null;
    this.localStream = null;
    this.remoteStream = null;
    this.media = null;
    this.peerReady = null;
    this.remoteCandidates = [];
  }

  private ref(): string {
    const ref = `r${++this.refCount}`;
    this.refs.add(ref);
    return ref;
  }

  private dispatch(action: CallAction): boolean {
    const previous = this.state;
    const next = callReducer(previous, action);
    if (next === previous) return false;
    this.state = next;
    if (next.phase !== previous.phase && (next.phase === 'ended' || next.phase === 'failed')) {
      this.release();
      if (next.phase === 'ended') this.resetTimer = setTimeout(() => this.dispatch({ type: 'reset' }), END_DISPLAY_MS);
    }
    this.emit('change');
    return true;
  }
}

/** The other party's tracks in the room; the same stream object while they do not change (no video restart). */
function remoteStreamOf(conference: Conference, previous: MediaStream | null): MediaStream | null {
  const tracks = conference.state.media.flatMap((item) => (item.track ? [item.track] : []));
  if (tracks.length === 0) return null;
  const same = previous !== null && previous.getTracks().length === tracks.length && tracks.every((track) => previous.getTracks().includes(track));
  return same ? previous : new MediaStream(tracks);
}

/** Audio and video; audio alone when the device has no camera. */
async function openCameraAndMicrophone(): Promise<MediaStream> {
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'NotFoundError') {
      return navigator.mediaDevices.getUserMedia({ audio: true });
    }
    throw error;
  }
}

function mediaErrorMessage(error: unknown): string {
  if (error instanceof DOMException && error.name === 'NotAllowedError') {
    return 'Camera and microphone access is blocked. Allow it in the browser to make calls.';
  }
  if (error instanceof DOMException && (error.name === 'NotFoundError' || error.name === 'NotReadableError')) {
    return 'No usable microphone was found.';
  }
  return 'The call could not be set up.';
}

function localSdp(pc: RTCPeerConnection): string {
  const sdp = pc.localDescription?.sdp;
  if (!sdp) throw new Error('no local description');
  return sdp;
}

function toWire(candidate: RTCIceCandidate): IceCandidate {
  return {
    candidate: candidate.candidate,
    sdpMid: candidate.sdpMid,
    sdpMLineIndex: candidate.sdpMLineIndex,
    usernameFragment: candidate.usernameFragment,
  };
}

function addCandidate(pc: RTCPeerConnection, candidate: RTCIceCandidateInit): void {
  // One unusable candidate must not end a call that others can still carry.
  pc.addIceCandidate(candidate).catch((error: unknown) => console.warn('call: ignored remote candidate', error));
}
