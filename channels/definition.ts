// One sync channel (PROTOCOL.md §2, §7) as the rest of the service sees it. The api routes, the
// status machine, the queue, the import job and the package builder are the same for every
// channel; what differs is only what is declared here. Adding a channel is writing one module
// that exports a ChannelDefinition and listing it in channels/registry.ts.
import type { DbOrTrx, Trx } from '../db/database.js';
import type { DeviceFlag } from '../db/schema/index.js';
import type { ChannelUpload } from '../shared/protocol/channels.js';
import type { ResendWindow } from '../shared/protocol/resend.js';
import type { ImportContext } from '../worker/import/context.js';

export interface WantedFile {
  name: string;
  required: boolean;
}

/** Members a channel adds to its manifest (PROTOCOL.md §3.2, §6, §7). */
export interface ManifestExtras {
  resend?: ResendWindow;
  photos_wanted?: string[];
}

export interface ManifestInput {
  db: DbOrTrx;
  deviceId: string;
  /** The device's pending flags (§6). */
  flags: readonly DeviceFlag[];
  now: Date;
}

/** Work a package leaves for the moment its session is marked ready (1→2), in the same transaction. */
export type AfterReady = (trx: Trx) => Promise<void>;

export interface ChannelDefinition {
  name: string;
  /** Static: which entries an upload may hold. The api checks archives with it, without the database. */
  upload: ChannelUpload;
  /**
   * XML files wanted this time besides `device.xml` (always required), given the pending flags.
   * The api refuses an upload lacking a required one with `required_file_missing`.
   */
  wantedFiles?(flags: readonly Pick<DeviceFlag, 'name'>[]): WantedFile[];
  /** Extra manifest members; may record what was offered (it runs in the manifest's transaction). */
  manifest?(input: ManifestInput): Promise<ManifestExtras>;
  /** Imports the batch's files into ctx.trx, filling ctx.out (imports, rejections, errors, alerts). */
  import(ctx: ImportContext): Promise<void>;
  /**
   * After the import and the user-days: what the package carries beyond the import report
   * (roster, flags, messages, photo index …), written into ctx.out.
   */
  buildPackage?(ctx: ImportContext): Promise<AfterReady | void>;
  /** The device acknowledged this channel's package (§3.5): runs in the transaction that flips 2→0. */
  acknowledged?(trx: Trx, ack: { deviceId: string; sessionId: string }): Promise<void>;
}

/** `device.xml` is required on every channel (§7). */
export const DEVICE_XML: WantedFile = { name: 'device.xml', required: true };
