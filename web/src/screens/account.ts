/** Loaded on demand (app.tsx): the signed-in person's own pages besides the phone. */
// Not used here: keeps the app shell's code in one shared chunk (see meetings.ts).
import '../app.tsx';
export { ProfileView } from '../components/ProfileView.tsx';
export { Recordings } from '../components/Recordings.tsx';
export { Voicemail } from '../components/Voicemail.tsx';
