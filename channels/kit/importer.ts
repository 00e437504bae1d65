// What a channel does with a batch in the worker (docs/protocol/v4.md §8): the import of its files and
// what its package carries. The api never loads this side (channels/description/definition.ts is its part).
import type { Trx } from '../../db/database.js';
import type { ChannelName } from '../../shared/protocol/channels.js';
import type { ImportContext } from './context.js';

/** Work a package leaves for the moment its session is marked ready (1→2), in the same transaction. */
export type AfterReady = (trx: Trx) => Promise<void>;

export interface ChannelImporter {
  name: ChannelName;
  /** Imports the batch's files into ctx.trx, filling ctx.out (imports, rejections, errors, alerts). */
  import(ctx: ImportContext): Promise<void>;
  /**
   * After the import and the user-days: what the package carries beyond the import report
   * (roster, flags, messages, photo index …), written into ctx.out.
   */
  buildPackage?(ctx: ImportContext): Promise<AfterReady | void>;
}
