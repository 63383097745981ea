import type { ComponentChildren } from 'preact';
import type { Conference } from '../../conference/index.ts';
import { navigate } from '../../route.ts';

interface RoomControlsProps {
  conference: Conference;
  /** Extra buttons, before Leave. */
  children?: ComponentChildren;
}

/** The controls bar: mute, camera, screen share, the caller's extra buttons, leave. */
export function RoomControls({ conference, children }: RoomControlsProps) {
  const { state } = conference;
  // Mute and share say what a click does; the camera toggle keeps its label and carries the state in aria-pressed.
  return (
    <div class="room-controls actions" data-testid="room-controls">
      <button
        type="button"
        class={`btn${state.micOn ? '' : ' btn-on'}`}
        data-testid="room-mic"
        data-muted={!state.micOn}
        onClick={() => conference.setMic(!state.micOn)}
      >
        {state.micOn ? 'Mute' : 'Unmute'}
      </button>
      <button type="button" class="btn" data-testid="room-camera" aria-pressed={!state.cameraOn} onClick={() => conference.setCamera(!state.cameraOn)}>
        Camera off
      </button>
      <button
        type="button"
        class={`btn${state.sharing ? ' btn-on' : ''}`}
        data-testid="room-share"
        data-sharing={state.sharing}
        onClick={() => void (state.sharing ? conference.stopScreenShare() : conference.startScreenShare())}
      >
        {state.sharing ? 'Stop sharing' : 'Share screen'}
      </button>
      {children}
      <button
        type="button"
        class="btn btn-danger"
        data-testid="room-leave"
        onClick={() => {
          void conference.leave();
          navigate('/rooms');
        }}
      >
        Leave
      </button>
    </div>
  );
}
