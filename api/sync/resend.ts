// RESEND_SINCE windows for the manifest: the rules live in shared/protocol/resend.ts (the
// worker applies the same ones when it imports a batch).
export { RESEND_WINDOW_DAYS, resendWindow, type ResendWindow } from '../../shared/protocol/resend.js';
