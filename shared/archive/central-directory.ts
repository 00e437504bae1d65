// A minimal walk of a zip's central directory that lists entry names, used only to name the
// entry when adm-zip refuses an archive for a duplicate name: adm-zip's error messages cannot
// be trusted for that (its templates keep the first value ever substituted, so every later
// error would repeat a name from some earlier upload).

const END_SIG = 0x06054b50;
const CENTRAL_SIG = 0x02014b50;
const END_SIZE = 22;
const CENTRAL_SIZE = 46;

/** Entry names in central-directory order, or null when the directory cannot be walked plainly (e.g. zip64). */
export function listCentralDirectoryNames(bytes: Buffer): string[] | null {
  const lowest = Math.max(0, bytes.length - END_SIZE - 0xffff);
  let end = -1;
  for (let i = bytes.length - END_SIZE; i >= lowest; i--) {
    if (bytes.readUInt32LE(i) === END_SIG) {
      end = i;
      break;
    }
  }
  if (end === -1) return null;
  const count = bytes.readUInt16LE(end + 10);
  let at = bytes.readUInt32LE(end + 16);
  const names: string[] = [];
  for (let n = 0; n < count; n++) {
    if (at + CENTRAL_SIZE > bytes.length || bytes.readUInt32LE(at) !== CENTRAL_SIG) return null;
    const nameLength = bytes.readUInt16LE(at + 28);
    const extraLength = bytes.readUInt16LE(at + 30);
    const commentLength = bytes.readUInt16LE(at + 32);
    if (at + CENTRAL_SIZE + nameLength > bytes.length) return null;
    names.push(bytes.toString('utf8', at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLength));
    at += CENTRAL_SIZE + nameLength + extraLength + commentLength;
  }
  return names;
}

/** The first name that appears twice in the central directory, or null. */
export function firstDuplicateName(bytes: Buffer): string | null {
  const seen = new Set<string>();
  for (const name of listCentralDirectoryNames(bytes) ?? []) {
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return null;
}
