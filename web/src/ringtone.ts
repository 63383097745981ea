/** Incoming-call ring synthesised with WebAudio, so no audio file has to be shipped. */

/** Two-tone bursts (440 + 480 Hz) of 0.4 s, 0.2 s apart, every 3 s. */
const PATTERN: readonly (readonly [start: number, stop: number])[] = [
  [0, 0.4],
  [0.6, 1],
];
const PERIOD_MS = 3000;
const VOLUME = 0.12;

/** Starts ringing; returns the function that stops it. */
export function startRingtone(): () => void {
  const context = new AudioContext();
  // Autoplay rules may start the context suspended; the sign-in click normally unlocks it.
  context.resume().catch(() => undefined);
  const gain = context.createGain();
  gain.gain.value = 0;
  gain.connect(context.destination);
  for (const frequency of [440, 480]) {
    const oscillator = context.createOscillator();
    oscillator.frequency.value = frequency;
    oscillator.connect(gain);
    oscillator.start();
  }
  const ring = (): void => {
    const now = context.currentTime;
    for (const [start, stop] of PATTERN) {
      // Short ramps instead of hard switches, which click.
      gain.gain.setTargetAtTime(VOLUME, now + start, 0.01);
      gain.gain.setTargetAtTime(0, now + stop, 0.01);
    }
  };
  ring();
  const timer = setInterval(ring, PERIOD_MS);
  return () => {
    clearInterval(timer);
    context.close().catch(() => undefined);
  };
}
