// Which pending flags a package delivers (PROTOCOL.md §6), and what they put in it.
import type { DeviceFlag } from '../../db/schema/index.js';
import type { ChannelName } from '../../shared/protocol/channels.js';
import type { FlagInstruction } from '../../shared/protocol/instruction-package.js';

/**
 * Flags ride on synchro packages. A flag that changes what the device uploads (FULL_RESYNC,
 * REPORT_SETTINGS, RESEND_SINCE) is delivered only by a batch uploaded after it was set, so
 * the device really acted on it; RESET_SESSION acted on the server already.
 */
export function deliverableFlags(flags: readonly DeviceFlag[], session: { channel: ChannelName; receivedAt: Date; sentFiles: readonly string[] }): DeviceFlag[] {
  if (session.channel !== 'synchro') return [];
  return flags.filter((f) => {
    switch (f.name) {
      case 'RESET_SESSION':
        return false;
      case 'FULL_RESYNC':
      case 'RESEND_SINCE':
        return f.set_at < session.receivedAt;
      case 'REPORT_SETTINGS':
        return f.set_at < session.receivedAt && session.sentFiles.includes('settings.xml');
      default:
        return true;
    }
  });
}

export function flagInstructions(flags: readonly DeviceFlag[]): { flags: FlagInstruction[]; settings: Record<string, string> | null } {
  let settings: Record<string, string> | null = null;
  const out: FlagInstruction[] = [];
  for (const f of flags) {
    if (f.name === 'SET_SETTINGS') {
      settings = { ...(settings ?? {}) };
      for (const [k, v] of Object.entries(f.params ?? {})) settings[k] = String(v);
    }
    const params: Record<string, string> = {};
    if (f.name === 'RESEND_SINCE' && typeof f.params?.since === 'string') params.since = f.params.since;
    out.push({ id: f.id, name: f.name, params });
  }
  return { flags: out, settings };
}
