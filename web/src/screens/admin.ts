/** Loaded on demand (app.tsx): the organisation's admin console. */
// Not used here: keeps the app shell's code in one shared chunk (see meetings.ts).
import '../app.tsx';
export { AdminConsole } from '../components/admin/AdminConsole.tsx';
