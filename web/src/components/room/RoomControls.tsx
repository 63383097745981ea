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
  // Toggle labels stay fixed: aria-pressed carries the state.
  return (
    <div class="room-controls actions" data-testid="room-controls">
      <button type="button" class="btn" data-testid="room-mic" aria-pressed={!state.micOn} onClick={() => conference.setMic(!state.micOn)}>
        Mute
      </button>
      <button type="button" class="btn" data-testid="room-camera" aria-pressed={!state.cameraOn} onClick={() => conference.setCamera(!state.cameraOn)}>
        Camera off
      </button>
      <button
        type="button"
        class="btn"
        data-testid="room-share"
        aria-pressed={state.sharing}
        onClick={() => void (state.sharing ? conference.stopScreenShare() : conference.startScreenShare())}
      >
        Share screen
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
