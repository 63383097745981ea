/** Loaded on demand (app.tsx): the signed-out screens reached by a link, sign-in aside. */
// Not used here: keeps the app shell's code in one shared chunk (see meetings.ts).
import '../app.tsx';
export { AcceptInviteView } from '../components/AcceptInviteView.tsx';
export { ForgotPasswordView, ResetPasswordView } from '../components/PasswordResetViews.tsx';
export { ConfirmSignupView } from '../components/ConfirmSignupView.tsx';
export { SignupView } from '../components/SignupView.tsx';
