// A PUSH route declared like a REST one (api/http/route.ts): method, path, what it does, and a
// handler from what the call carries to its plain-text answer. api/push/routes.ts mounts them on
// the express router under /iclock; how much of a body is read, and from whom, is decided before
// the handler runs (api/push/body.ts).
import type { AppContext } from '../context/context.js';
import type { PushAnswer, PushRequest } from './answer.js';
import type { TerminalAccess } from './terminal-access.js';

/** A path under /iclock/, matched without case and with or without `.aspx` or a trailing slash. */
export type PushPath = 'cdata' | 'getrequest' | 'devicecmd' | 'registry' | 'ping' | 'push' | 'querydata';

/** What every handler works with: the process's context and the terminal admission. */
export interface PushDeps {
  ctx: AppContext;
  access: TerminalAccess;
}

export type PushHandler = (req: PushRequest, deps: PushDeps) => Promise<PushAnswer>;

export interface PushRoute {
  /** GET also answers HEAD; '*' any method the path has no route of its own for. */
  method: 'GET' | 'POST' | '*';
  path: PushPath;
  summary: string;
  handler: PushHandler;
}

/** Collects the /iclock route declarations. */
export class PushRoutes {
  readonly routes: PushRoute[] = [];

  add(route: PushRoute): void {
    this.routes.push(route);
  }
}
