import { useMemo } from 'preact/hooks';

/** Plays one remote microphone (tiles play no sound: their video elements are muted). */
export function RemoteAudio({ track }: { track: MediaStreamTrack }) {
  const stream = useMemo(() => new MediaStream([track]), [track]);
  return <audio data-testid="remote-audio" srcObject={stream} autoplay />;
}
