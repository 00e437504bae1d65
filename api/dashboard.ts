// The dashboard's static files (web/dist, built by web/build.ts) at `/`. Hashed assets are
// cached for a year; index.html is revalidated on every load so a new build is picked up at
// once. Not RouteRegistry routes: they are files, not API resources, and stay out of the OpenAPI
// document. The page runs no inline script, so its CSP allows scripts from this origin only.
import express, { type RequestHandler } from 'express';
import path from 'node:path';
import { DASHBOARD_DIR as DIST_DIR } from '../runtime/compiled.js';

const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:",
  "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'",
].join('; ');

export function dashboardStatic(distDir = DIST_DIR): RequestHandler {
  return express.static(distDir, {
    index: 'index.html',
    dotfiles: 'ignore',
    redirect: false,
    setHeaders(res, file) {
      if (path.basename(file) === 'index.html') {
        res.setHeader('Cache-Control', 'no-cache');
        res.setHeader('Content-Security-Policy', CSP);
        res.setHeader('X-Content-Type-Options', 'nosniff');
      } else {
        res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      }
    },
  });
}
