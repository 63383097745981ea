/** Loaded on demand (app.tsx): the meetings page and the meeting view, with mediasoup-client. */
// Imported for nothing: with every screen here importing the app shell, esbuild gives all of the
// shell's modules the same set of entry points and emits them as one shared chunk, not one chunk
// per mix of screens that happen to use a module (each file gzips on its own: fewer files, fewer
// bytes). The shell has run before any screen loads, so this runs nothing.
import '../app.tsx';
export { Meetings } from '../components/Meetings.tsx';
export { RoomView } from '../components/RoomView.tsx';
