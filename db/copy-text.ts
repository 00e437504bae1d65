// COPY … FROM STDIN of text pieces, on the connection of a kysely transaction: kysely hands a
// query's text to pg's client.query as it is, and pg runs an object with a submit() method (a
// pg-copy-streams query is one) on that client, the transaction's.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CompiledQuery } from 'kysely';
import { from as copyFrom } from 'pg-copy-streams';
import type { Trx } from './database.js';

/** `statement` is a `COPY … FROM STDIN` in text format; `text`, its lines, in one piece or many (strings or their UTF-8 bytes). */
export async function copyText(trx: Trx, statement: string, text: string | AsyncIterable<string> | Iterable<string | Buffer>): Promise<void> {
  const copy = copyFrom(statement);
  try {
    await trx.executeQuery(CompiledQuery.raw(copy as unknown as string));
  } catch (err) {
    // Ends a COPY already started (CopyFail), or the connection would wait for its data forever.
    copy.destroy(err as Error);
    throw err;
  }
  await pipeline(typeof text === 'string' ? Readable.from([text]) : Readable.from(text), copy);
}
