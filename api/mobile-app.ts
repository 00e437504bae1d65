// The reference app for schools (app/, built into app/dist by app/build.ts) at /app/: an
// offline web app whose service worker (/app/sw.js, scope /app/) precaches every file, so
// that it opens without a network. index.html, sw.js and the manifest are revalidated on every
// load (a new build's service worker is then found at once); the content-hashed script and
// stylesheet are cached for a year. Like the dashboard (api/dashboard.ts) the page runs no
// inline script; its CSP adds what the app needs: the camera's stream shown in a <video>
// (media-src blob: mediastream:), its own service worker (worker-src 'self') and manifest.
// The camera is allowed for this origin only (Permissions-Policy).
import express, { type RequestHandler, Router } from 'express';
import path from 'node:path';
import { MOBILE_APP_DIR } from '../runtime/compiled.js';

export const MOBILE_APP_PATH = '/app';

const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:", "connect-src 'self'", "worker-src 'self'", "manifest-src 'self'",
  "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'", "object-src 'none'",
].join('; ');

/** Revalidated on every load: they name the others, or (sw.js) decide what the app runs. */
const REVALIDATED = new Set(['index.html', 'sw.js', 'manifest.webmanifest']);

export function mobileAppStatic(distDir = MOBILE_APP_DIR): RequestHandler {
  const router = Router({ strict: true });
  // /app without its slash: the page's relative URLs (./sw.js, the scope) need the folder form.
  // A middleware, not a route: the app's files are not part of the REST document (/api/openapi.json).
  router.use((req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.originalUrl.split('?')[0] !== MOBILE_APP_PATH) { next(); return; }
    res.redirect(301, `${MOBILE_APP_PATH}/`);
  });
  router.use(express.static(distDir, {
    index: 'index.html',
    dotfiles: 'ignore',
    redirect: false,
    setHeaders(res, file) {
      const name = path.basename(file);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      if (REVALIDATED.has(name)) res.setHeader('Cache-Control', 'no-cache');
      else res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      if (name === 'index.html') {
        res.setHeader('Content-Security-Policy', CSP);
        res.setHeader('Permissions-Policy', 'camera=(self), microphone=(), geolocation=()');
        res.setHeader('Referrer-Policy', 'no-referrer');
      }
      if (name === 'sw.js') res.setHeader('Service-Worker-Allowed', `${MOBILE_APP_PATH}/`);
      if (name === 'manifest.webmanifest') res.setHeader('Content-Type', 'application/manifest+json');
    },
  }));
  return router;
}
