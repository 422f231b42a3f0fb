import { Agent } from 'node:https';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScepPayload } from '@scepkit/intune-emulator';
import { httpExchange } from './http.js';
import { normalizeSerial } from './load-generator.js';
import { REPO, spawnServer } from './servers.js';

const EMULATOR_MAIN = join(REPO, 'packages', 'intune-emulator', 'dist', 'cli.js');

/** What `scepkit-intune-emulator` prints at start (its JSON banner). */
interface EmulatorBanner {
  url: string;
  intuneConfig: { tenant: string; tenantId: string; clientId: string; clientSecret: string };
  profiles: Record<string, string>;
}

/**
 * The Intune emulator in its own process (`scepkit-intune-emulator --port 0`, seeded tenant), so that its CPU
 * is measured apart from the server's and the load generator's, and a client of its admin API.
 */
export class IntuneEmulatorProcess {
  private readonly agent: Agent;

  private constructor(
    readonly pid: number,
    readonly url: string,
    readonly tlsCaFile: string,
    tlsCaPem: string,
    private readonly banner: EmulatorBanner,
    private readonly stopProcess: () => Promise<void>,
  ) {
    // No keep-alive for the admin calls: they come in bursts minutes apart, and a socket the emulator closed after
    // its idle timeout would be reused (`socket hang up`). They are outside the timed loops.
    this.agent = new Agent({ keepAlive: false, maxSockets: 8, ca: tlsCaPem });
  }

  static async start(dir: string): Promise<IntuneEmulatorProcess> {
    mkdirSync(dir, { recursive: true });
    const s = await spawnServer(
      [
        ...(process.env.BENCH_EMULATOR_NODE_OPTIONS ?? '').split(' ').filter(Boolean),
        EMULATOR_MAIN,
        '--port',
        '0',
      ],
      {
        name: 'intune emulator',
        cwd: dir,
        env: process.env,
        ready: /^(\{[\s\S]*?\n\})\n[\s\S]*?(-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----)/,
      },
    );
    const banner = JSON.parse(s.match[1]!) as EmulatorBanner;
    const tlsCaPem = `${s.match[2]!}\n`;
    const tlsCaFile = join(dir, 'emulator-tls.pem');
    writeFileSync(tlsCaFile, tlsCaPem);
    return new IntuneEmulatorProcess(s.pid, banner.url, tlsCaFile, tlsCaPem, banner, s.stop);
  }

  /** scepkit's `intune` config section for this emulator (the client secret goes in the environment). */
  scepkitConfig(): { config: Record<string, unknown>; env: Record<string, string> } {
    return {
      config: {
        tenant: this.banner.intuneConfig.tenant,
        clientId: this.banner.intuneConfig.clientId,
        authority: `${this.url}/`,
        graphUrl: `${this.url}/`,
        tlsCaFile: this.tlsCaFile,
        revocationIntervalSeconds: 0,
        outboxIntervalSeconds: 3600,
        doctorAtStartup: false,
      },
      env: { SCEPKIT_INTUNE_CLIENT_SECRET: this.banner.intuneConfig.clientSecret },
    };
  }

  private async admin<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const a = await httpExchange(
      this.agent,
      new URL(`/admin${path}`, this.url),
      method,
      body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
      60_000,
      'application/json',
    );
    if (a.status >= 300) throw new Error(`emulator ${method} ${path}: HTTP ${a.status} ${a.body.toString()}`);
    return JSON.parse(a.body.toString()) as T;
  }

  /** Adds `n` Windows devices (no user), each targeted by the seeded Windows device-certificate profile. */
  async addDevices(n: number): Promise<string[]> {
    const t = this.banner.intuneConfig.tenantId;
    const profile = this.banner.profiles['device-windows'];
    if (!profile) throw new Error('the emulator has no device-windows profile');
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const d = await this.admin<{ id: string }>('POST', `/tenants/${t}/devices`, { platform: 'windows' });
      await this.admin('POST', `/tenants/${t}/profiles/${profile}/assignments`, { kind: 'device', id: d.id });
      ids.push(d.id);
    }
    return ids;
  }

  /**
   * `count` SCEP payloads (challenge + expected CSR contents), from check-ins of `devices` in turn: each
   * check-in mints a new challenge with its own request id, as Intune does for each enrollment.
   */
  async mint(devices: readonly string[], count: number): Promise<ScepPayload[]> {
    const t = this.banner.intuneConfig.tenantId;
    const out: ScepPayload[] = new Array<ScepPayload>(count);
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const d = devices[i % devices.length]!;
        const r = await this.admin<{ value: ScepPayload[] }>('POST', `/tenants/${t}/devices/${d}/check-in`, {
          force: true,
        });
        if (r.value.length !== 1) throw new Error(`check-in of ${d}: ${r.value.length} payloads, expected 1`);
        out[i] = r.value[0]!;
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    return out;
  }

  /** Serial numbers (normalized) of every certificate the emulator received a successNotification for. */
  async notifiedSerials(): Promise<Set<string>> {
    const state = await this.admin<{ issued: { serialNumber: string }[] }>('GET', '/state');
    return new Set(state.issued.map((c) => normalizeSerial(c.serialNumber)));
  }

  /** Counts the calls the emulator received since the last call, by operation, and clears its request log. */
  async takeCallCounts(): Promise<Record<string, number>> {
    const log = await this.admin<{ value: { operation: string }[] }>('GET', '/requests');
    await this.admin('DELETE', '/requests');
    const counts: Record<string, number> = {};
    for (const r of log.value) {
      if (r.operation === 'admin') continue;
      counts[r.operation] = (counts[r.operation] ?? 0) + 1;
    }
    return counts;
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    await this.stopProcess();
  }
}
