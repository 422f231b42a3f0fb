import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ServerError } from '../errors.js';

/** The console's own files: `admin-ui/` beside `dist/` (in the repository and in the npm package). */
const UI_DIR = new URL('../../admin-ui/', import.meta.url);

/** Front-end libraries, served from the installed packages (ES modules, no bundler). */
const VENDOR: Record<string, string> = {
  'preact.mjs': 'preact',
  'hooks.mjs': 'preact/hooks',
  'htm.mjs': 'htm',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

function file(body: Buffer, name: string): StaticFile {
  const type = TYPES[extname(name)];
  if (!type) throw new ServerError('badOptions', `admin console: no content type for ${name}`);
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

function send(request: FastifyRequest, reply: FastifyReply, f: StaticFile, cacheControl: string) {
  reply.header('etag', f.etag).header('cache-control', cacheControl);
  if (request.headers['if-none-match'] === f.etag) return reply.code(304).send();
  return reply.type(f.type).send(f.body);
}

/** Loads the UI (once, at start-up: a missing file fails the start, not a request) and its route handlers. */
export function loadStaticFiles(): {
  index: StaticFile;
  importMapHash: string;
  register(app: FastifyInstance): void;
} {
  const ui = new Map<string, StaticFile>();
  let names: string[];
  try {
    names = readdirSync(UI_DIR).filter((n) => TYPES[extname(n)]);
  } catch (err) {
    throw new ServerError('badOptions', `admin console files not found in ${fileURLToPath(UI_DIR)}`, {
      cause: err,
    });
  }
  for (const n of names) ui.set(n, file(readFileSync(new URL(n, UI_DIR)), n));
  const index = ui.get('index.html');
  if (!index) throw new ServerError('badOptions', 'admin console: index.html missing');
  // The import map is the one inline script: allowed by its hash in the Content-Security-Policy.
  const m = /<script type="importmap">([\s\S]*?)<\/script>/.exec(index.body.toString('utf8'));
  if (!m) throw new ServerError('badOptions', 'admin console: index.html has no import map');
  const importMapHash = `sha256-${createHash('sha256').update(m[1]!).digest('base64')}`;
  const vendor = new Map<string, StaticFile>();
  for (const [name, specifier] of Object.entries(VENDOR)) {
    vendor.set(name, file(readFileSync(fileURLToPath(import.meta.resolve(specifier))), name));
  }
  return {
    index,
    importMapHash,
    register(app) {
      app.get('/', (request, reply) => send(request, reply, index, 'no-cache'));
      app.get<{ Params: { name: string } }>('/ui/:name', (request, reply) => {
        const f = ui.get(request.params.name);
        if (!f || request.params.name === 'index.html') return reply.callNotFound();
        return send(request, reply, f, 'no-cache');
      });
      app.get<{ Params: { name: string } }>('/vendor/:name', (request, reply) => {
        const f = vendor.get(request.params.name);
        if (!f) return reply.callNotFound();
        return send(request, reply, f, 'public, max-age=86400');
      });
    },
  };
}
