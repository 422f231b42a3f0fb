import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { IntuneEmulator, type IntuneEmulatorOptions } from './emulator.js';
import type { EmulatorRequest } from './http.js';
import { createEmulatorKeys, type EmulatorKeys } from './keys.js';
import { seedEmulator, type SeedOptions, type SeedResult } from './seed.js';

export interface StartEmulatorOptions extends Omit<IntuneEmulatorOptions, 'keys' | 'baseUrl'> {
  /** TCP port on 127.0.0.1 (default 0: any free port). */
  port?: number;
  /** Key material; generated when absent (share one set between tests to save time). */
  keys?: EmulatorKeys;
  /** Seed a tenant, app, users, devices and profiles (default true); `false` starts empty. */
  seed?: boolean | SeedOptions;
}

/** A running emulator. `tlsCaPem` is the self-signed certificate clients must trust. */
export interface RunningEmulator {
  /** `https://127.0.0.1:PORT` (no trailing slash). */
  url: string;
  port: number;
  tlsCaPem: string;
  emulator: IntuneEmulator;
  /** Seeded values (undefined when started with `seed: false`). */
  seed: SeedResult | undefined;
  tenantId: string | undefined;
  tenantDomain: string | undefined;
  clientId: string | undefined;
  clientSecret: string | undefined;
  stop(): Promise<void>;
}

/** Builds the fastify HTTPS app that feeds every request to `emulator.handle`. */
export function buildServer(emulator: IntuneEmulator, keys: EmulatorKeys): FastifyInstance {
  const app = Fastify({
    https: { key: keys.tlsKeyPem, cert: keys.tlsCertPem },
    logger: false,
    bodyLimit: 4 * 1024 * 1024,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.route({
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '*',
    handler: async (request, reply) => {
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(request.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const req: EmulatorRequest = {
        method: request.method,
        url: request.url,
        headers,
        body: typeof request.body === 'string' ? request.body : '',
      };
      const answer = await emulator.handle(req);
      if (answer.drop) {
        reply.hijack();
        request.raw.socket.destroy();
        return;
      }
      void reply.code(answer.status).headers(answer.headers ?? {});
      return reply.send(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    },
  });
  return app;
}

/**
 * Starts the emulator over HTTPS on 127.0.0.1.
 *
 * @example
 * const emu = await startEmulator({ port: 0 });
 * // MSAL authority `${emu.url}/${emu.tenantDomain}`, trust `emu.tlsCaPem`, client id/secret from `emu`.
 * await emu.stop();
 */
export async function startEmulator(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const keys = options.keys ?? (await createEmulatorKeys());
  const emulator = new IntuneEmulator({ ...options, keys });
  const app = buildServer(emulator, keys);
  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;
  emulator.baseUrl = url;
  const seed =
    options.seed === false
      ? undefined
      : seedEmulator(emulator, typeof options.seed === 'object' ? options.seed : {});
  return {
    url,
    port,
    tlsCaPem: keys.tlsCertPem,
    emulator,
    seed,
    tenantId: seed?.tenant.id,
    tenantDomain: seed?.tenant.domain,
    clientId: seed?.app.clientId,
    clientSecret: seed?.clientSecret,
    stop: async () => {
      app.server.closeAllConnections();
      await app.close();
    },
  };
}
