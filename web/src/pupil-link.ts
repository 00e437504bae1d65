// A pupil's name as a link to their page (the Pupils view), keeping the period in the URL.
import { h } from './dom.js';
import { m } from './i18n.js';
import type { ViewContext } from './view.js';

export function pupilLink(ctx: ViewContext, userId: number | null, name: string | null): HTMLElement | string {
  if (userId === null) return name ?? '—';
  return h('a', { href: ctx.href('pupils', { user: String(userId) }), title: m.openPupil(name ?? String(userId)) }, name ?? `#${userId}`);
}
