// The instruction package of an imported batch (docs/protocol/v4.md §5), put together from what the
// channel's importer left in its PackageParts. Pure: no database, no clock of its own.
import type { PackageParts } from '../../channels/kit/context.js';
import { buildZip, buildZipStreamed } from '../../shared/archive/build-zip.js';
import { CLOCK_REPORT_SKEW_SECONDS } from '../../shared/protocol/codes.js';
import type { InstructionPackage, RowRejection } from '../../shared/protocol/instruction-package.js';
import { buildInstructionsXml, instructionsXmlParts, rejectionXml } from '../../shared/xml/instructions-xml.js';

export interface AssembleInput {
  sessionId: string;
  /** When the import ran: the package's generated_at and the server time of a `<clock>`. */
  now: Date;
  /** Device clock minus the batch's arrival, null when device.xml gave no clock. */
  skewSeconds: number | null;
  out: PackageParts;
}

export function assemblePackage({ sessionId, now, skewSeconds, out }: AssembleInput): InstructionPackage {
  return {
    sessionId,
    generatedAt: now,
    imports: [...out.imports].map(([file, s]) => ({ file, received: s.received, accepted: s.accepted, duplicates: s.duplicates, rejected: s.rejected, highWaterMark: s.high_water_mark })),
    rejections: out.rejections,
    errors: out.errors,
    // A skew the device should hear about; a smaller one is noise (§5).
    clock: skewSeconds !== null && Math.abs(skewSeconds) > CLOCK_REPORT_SKEW_SECONDS ? { serverTime: now, skewSeconds } : null,
    roster: out.roster,
    settings: out.settings,
    flags: out.flags,
    alerts: out.alerts,
    messages: out.messages,
    photos: out.photos,
  };
}

/**
 * The zip the device downloads: instructions.xml first, then the files the importer added (roster.csv …).
 * `storedRejections`, when the batch refused more rows than the import held (`out.rejectionsSpilled`):
 * every rejection as stored, a page at a time, written into instructions.xml as they are read and
 * deflated as they are written, so the package costs its compressed bytes (about 5 bytes a
 * rejection), never a string or an object per refused row (issue #33).
 */
export async function packageZip(pkg: InstructionPackage, out: Pick<PackageParts, 'files'>, storedRejections?: AsyncIterable<readonly RowRejection[]>): Promise<Buffer> {
  if (!storedRejections) return buildZip([{ name: 'instructions.xml', data: buildInstructionsXml(pkg) }, ...out.files]);
  const { head, tail } = instructionsXmlParts(pkg);
  async function* xml(): AsyncGenerator<string> {
    yield head;
    for await (const page of storedRejections!) yield page.map(rejectionXml).join('');
    yield tail;
  }
  return buildZipStreamed([{ name: 'instructions.xml', data: xml() }, ...out.files]);
}
