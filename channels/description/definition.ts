// One sync channel (docs/protocol/v4.md §2, §7) as the api sees it: a pure description (names, allowed
// entries, wanted files, manifest extras, the acknowledgement hook), with no import code, so the
// api process never loads the importers. What a batch of the channel does in the worker is its
// ChannelImporter (channels/kit/importer.ts, channels/<name>/importer.ts). Adding a channel is
// writing both, naming it in shared/protocol/channels.ts and listing it in channels/registry.ts
// and channels/importers.ts.
import type { DbOrTrx, Trx } from '../../db/database.js';
import type { DeviceFlag } from '../../db/schema/index.js';
import type { ChannelName, ChannelUpload } from '../../shared/protocol/channels.js';
import type { ResendWindow } from '../../shared/protocol/resend.js';

export interface WantedFile {
  name: string;
  required: boolean;
}

/** Members a channel adds to its manifest (docs/protocol/v4.md §3.2, §6, §7). */
export interface ManifestExtras {
  resend?: ResendWindow;
  photos_wanted?: string[];
}

export interface ManifestInput {
  db: DbOrTrx;
  /** The device's school (its token's claim). */
  schoolId: number;
  deviceId: string;
  /** The device's pending flags (§6). */
  flags: readonly DeviceFlag[];
  now: Date;
}

export interface ChannelDescription {
  name: ChannelName;
  /** Static: which entries an upload may hold. The api checks archives with it, without the database. */
  upload: ChannelUpload;
  /**
   * XML files wanted this time besides `device.xml` (always required), given the pending flags.
   * The api refuses an upload lacking a required one with `required_file_missing`.
   */
  wantedFiles?(flags: readonly Pick<DeviceFlag, 'name'>[]): WantedFile[];
  /** Extra manifest members; may record what was offered (it runs in the manifest's transaction). */
  manifest?(input: ManifestInput): Promise<ManifestExtras>;
  /** The device acknowledged this channel's package (§3.5): runs in the transaction that flips 2→0. */
  acknowledged?(trx: Trx, ack: { schoolId: number; deviceId: string; sessionId: string }): Promise<void>;
}

/** `device.xml` is required on every channel (§7). */
export const DEVICE_XML: WantedFile = { name: 'device.xml', required: true };
