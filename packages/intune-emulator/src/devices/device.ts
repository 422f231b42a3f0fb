import 'reflect-metadata';
import { KeyObject, X509Certificate, createPublicKey } from 'node:crypto';
import {
  buildPkiRequest,
  decodeCertRep,
  keyObjectDecrypter,
  keyObjectSigner,
  readCsr,
  selfSignedCertificate,
  type CertRepResult,
  type RequestBody,
} from '@scepkit/scep';
import { buildDeviceCsr, generateDeviceKeys } from '../csr.js';
import type { ScepPayload } from '../deployment.js';
import type { IntuneEmulator } from '../emulator.js';
import type { Device } from '../model.js';
import { appleBer } from './ber.js';
import { caCanDecrypt, pemToDer, sha1Thumbprint, subjectNameDer } from './ca-certs.js';
import { DeviceError } from './errors.js';
import { deviceFetch, type DeviceHttpRequest, type DeviceHttpResponse, type HttpExchange } from './http.js';
import { PLATFORM_BEHAVIOURS, type PlatformBehaviour } from './platforms.js';
import { ScepSession } from './session.js';
import type {
  DeviceStep,
  EnrollOptions,
  EnrollResult,
  InstalledCertificate,
  RenewResult,
  SimulatedDeviceOptions,
  StepSink,
} from './types.js';

export type {
  DeviceStep,
  DeviceStepName,
  EnrollOptions,
  EnrollResult,
  InstalledCertificate,
  RenewResult,
  SimulatedDeviceOptions,
} from './types.js';

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A managed device that enrolls as its platform does, over real HTTP: check-in for the SCEP payloads, GetCACaps and
 * GetCACert (in the platform's order, with its `message` and User-Agent), a PKCSReq with the platform's digest,
 * cipher, key transport, method and encoding, CertPoll on PENDING, and installation of the issued certificate.
 */
export class SimulatedDevice {
  /** Every HTTP exchange, in order. */
  readonly exchanges: HttpExchange[] = [];
  /** Every step of every enrollment, in order (also when an enrollment throws). */
  readonly steps: DeviceStep[] = [];
  /** Installed certificates, by profile. */
  readonly installed = new Map<string, InstalledCertificate>();
  readonly behaviour: PlatformBehaviour;

  constructor(
    readonly emulator: IntuneEmulator,
    private readonly options: SimulatedDeviceOptions,
  ) {
    this.behaviour = PLATFORM_BEHAVIOURS[this.device.platform];
  }

  /** The emulator's record of this device. */
  get device(): Device {
    return this.emulator.state.device(this.options.tenantId, this.options.deviceId);
  }

  /** Checks in and enrolls every SCEP payload Intune hands out (all targeted profiles if none is due). */
  async enroll(options: EnrollOptions = {}): Promise<EnrollResult> {
    const wanted = (p: ScepPayload): boolean => !options.profileId || p.profileId === options.profileId;
    let payloads = this.emulator.checkIn(this.options.tenantId, this.options.deviceId).filter(wanted);
    // Nothing due: enroll anyway (a forced check-in mints fresh challenges for every targeted profile).
    if (payloads.length === 0) {
      payloads = this.emulator
        .checkIn(this.options.tenantId, this.options.deviceId, { force: true })
        .filter(wanted);
    }
    const steps: DeviceStep[] = [];
    const certificates: InstalledCertificate[] = [];
    for (const payload of payloads) certificates.push(await this.enrollPayload(payload, options, steps));
    const [certificate] = certificates;
    if (!certificate) throw new DeviceError('NO_PAYLOAD', 'no SCEP profile targets this device');
    return { certificate, certificates, steps };
  }

  /** Renewal threshold reached for `cert` (at `100 - threshold` % of its lifetime, emulator clock)? */
  isDue(cert: InstalledCertificate): boolean {
    const start = cert.notBefore.getTime();
    const end = cert.notAfter.getTime();
    return this.emulator.ctx.now() >= end - ((end - start) * cert.renewalThresholdPercent) / 100;
  }

  /**
   * Renews, with a new key, each installed certificate whose renewal threshold is reached: a new check-in gives a
   * fresh challenge and the device sends a new PKCSReq, as Intune devices do.
   */
  async renewIfDue(options: Omit<EnrollOptions, 'profileId'> = {}): Promise<RenewResult> {
    const due = new Set([...this.installed.values()].filter((c) => this.isDue(c)).map((c) => c.profileId));
    const steps: DeviceStep[] = [];
    if (due.size === 0) return { renewed: [], steps };
    const payloads = this.emulator
      .checkIn(this.options.tenantId, this.options.deviceId)
      .filter((p) => due.has(p.profileId));
    const renewed: InstalledCertificate[] = [];
    for (const payload of payloads) renewed.push(await this.enrollPayload(payload, options, steps));
    return { renewed, steps };
  }

  private async enrollPayload(
    payload: ScepPayload,
    options: EnrollOptions,
    steps: DeviceStep[],
  ): Promise<InstalledCertificate> {
    const b = this.behaviour;
    const profileId = payload.profileId;
    const step: StepSink = (s) => {
      steps.push({ ...s, profileId });
      this.steps.push({ ...s, profileId });
    };
    const profile = this.emulator.state.profile(this.options.tenantId, profileId);
    // Never the challenge itself: only that one was received.
    step({
      step: 'check-in',
      ok: true,
      detail: `${profile.name}: challenge (${payload.challenge.length} chars, expires ${payload.challengeExpiresAt}), ${payload.expected.keySize}-bit key`,
    });
    const session = new ScepSession(b, (r) => this.fetch(r), step);
    const urls = options.scepUrl
      ? [options.scepUrl]
      : b.triesEveryUrl
        ? payload.scepServerUrls
        : payload.scepServerUrls.slice(0, 1);
    const ca = await session.discover(urls);
    const caps = session.caps;

    if (b.checksCaThumbprint) {
      const rootPem = options.trustCaPem ?? payload.rootCertificatePem;
      if (rootPem) {
        const want = sha1Thumbprint(pemToDer(rootPem));
        const ok = ca.all.some((c) => sha1Thumbprint(c) === want);
        step({
          step: 'GetCACert',
          ok,
          detail: `CAThumbprint ${want} ${ok ? 'found' : 'NOT among the CA certificates'}`,
        });
        if (!ok)
          throw new DeviceError('CA_THUMBPRINT_MISMATCH', `no GetCACert certificate has thumbprint ${want}`);
      } else {
        step({
          step: 'GetCACert',
          ok: true,
          detail: 'no trusted root in the profile: CAThumbprint not checked',
        });
      }
    }
    const recipient = ca.ra ?? (!b.needsRa && caCanDecrypt(ca.ca) ? ca.ca : undefined);
    if (!recipient) {
      throw new DeviceError(
        'NO_RECIPIENT',
        b.needsRa
          ? 'GetCACert has no RA certificate with keyEncipherment (Windows stalls here, field #228)'
          : 'GetCACert has no certificate with keyEncipherment',
      );
    }

    const keys = await (this.options.generateKeys ?? generateDeviceKeys)(payload.expected.keySize);
    const user = this.device.userId ? this.emulator.state.users.get(this.device.userId) : undefined;
    const csr = await buildDeviceCsr({
      profile,
      device: this.device,
      ...(profile.certificateType === 'user' && user ? { user } : {}),
      challenge: payload.challenge,
      keys,
    });
    const privateKey = KeyObject.from(keys.privateKey);
    const digest = b.digest(caps, payload.hashAlgorithm);
    const cipher = b.cipher(caps);
    const keyTransport =
      b.platform === 'windows' ? (this.options.windowsKeyTransport ?? b.keyTransport) : b.keyTransport;
    const usePost = b.usePost(caps);
    const summary = readCsr(csr.der);
    const signerCert = selfSignedCertificate({
      subject: summary.subject,
      privateKey,
      digest,
      now: new Date(this.emulator.ctx.now()),
    });
    const signer = keyObjectSigner(signerCert, privateKey);
    const decrypter = keyObjectDecrypter(signerCert, privateKey);

    const send = async (body: RequestBody, transactionId?: string): Promise<[CertRepResult, string]> => {
      const req = await buildPkiRequest({
        body,
        signer,
        recipients: [recipient],
        digest,
        cipher,
        keyTransport,
        ...(transactionId ? { transactionId } : {}),
      });
      const der = b.berIndefinite ? appleBer(req.der) : Buffer.from(req.der);
      const what = `${body.messageType} (${digest}, ${cipher}, ${keyTransport}, ${usePost ? 'POST' : 'GET'}${b.berIndefinite ? ', BER' : ''})`;
      const r = await session.pkiOperation(der, usePost, what);
      let rep: CertRepResult;
      try {
        rep = await decodeCertRep(r.body, {
          decrypter,
          expect: { transactionId: req.transactionId, senderNonce: req.senderNonce },
          trustedSigners: ca.all,
        });
      } catch (err) {
        // Apple: "The Registration Authority's response is invalid".
        const why = err instanceof Error ? err.message : String(err);
        step({
          step: 'PKIOperation',
          ok: false,
          detail: `${what}: invalid CertRep: ${why}`,
          http: r.exchange,
        });
        throw err;
      }
      const text =
        rep.status === 'FAILURE'
          ? `FAILURE ${rep.failInfo ?? ''} ${rep.failInfoText ?? ''}`.trim()
          : rep.status;
      step({
        step: 'PKIOperation',
        ok: rep.status !== 'FAILURE',
        detail: `${what}: ${text}`,
        http: r.exchange,
      });
      return [rep, req.transactionId];
    };

    const [first, transactionId] = await send({ messageType: 'PKCSReq', csr: csr.der });
    let rep = first;
    const issuer = subjectNameDer(ca.ca);
    let polls = 0;
    while (rep.status === 'PENDING') {
      if (polls >= (this.options.maxPolls ?? 3)) {
        throw new DeviceError('STILL_PENDING', `still PENDING after ${polls} CertPoll(s)`);
      }
      polls++;
      await (this.options.sleep ?? defaultSleep)(this.options.pollIntervalMs ?? 5000);
      [rep] = await send({ messageType: 'CertPoll', issuer, subject: summary.subject }, transactionId);
    }
    this.validationStep(step, csr.base64);
    if (rep.status === 'FAILURE') {
      this.notificationStep(step, profileId, undefined);
      const [status] = this.emulator.deploymentStatuses({ deviceId: this.options.deviceId, profileId });
      const why =
        status?.state === 'failed' && status.errorDescription ? ` (Intune: ${status.errorDescription})` : '';
      throw new DeviceError(
        'SCEP_FAILURE',
        `the CA refused: ${rep.failInfo ?? ''} ${rep.failInfoText ?? ''}`.trim() + why,
      );
    }
    const spki = Buffer.from(summary.publicKey);
    const mine = rep.certificates.find((c) =>
      new X509Certificate(c).publicKey.export({ format: 'der', type: 'spki' }).equals(spki),
    );
    if (!mine) throw new DeviceError('NO_CERTIFICATE', 'the CertRep holds no certificate for our key');
    const x = new X509Certificate(mine);
    const installed: InstalledCertificate = {
      profileId,
      der: mine,
      pem: x.toString(),
      subject: x.subject.split('\n').join(', '),
      serialNumber: x.serialNumber.toLowerCase(),
      thumbprint: sha1Thumbprint(mine),
      notBefore: new Date(x.validFrom),
      notAfter: new Date(x.validTo),
      publicKey: new Uint8Array(createPublicKey(privateKey).export({ format: 'der', type: 'spki' })),
      privateKey,
      transactionId,
      renewalThresholdPercent: payload.renewalThresholdPercent,
      request: {
        messageType: 'PKCSReq',
        method: usePost ? 'POST' : 'GET',
        digest,
        cipher,
        keyTransport,
        polls,
      },
    };
    this.installed.set(profileId, installed);
    step({
      step: 'install',
      ok: true,
      detail: `${installed.subject} serial ${installed.serialNumber} thumbprint ${installed.thumbprint}`,
    });
    this.notificationStep(step, profileId, installed.thumbprint);
    return installed;
  }

  /** Whether the CA asked Intune to validate this CSR (the emulator's request log). */
  private validationStep(step: StepSink, csrBase64: string): void {
    const calls = this.emulator
      .requestsOf('validateRequest')
      .filter((r) => r.body.includes(csrBase64.slice(0, 200)) && r.body.includes(csrBase64.slice(-64)));
    step({
      step: 'validation',
      ok: calls.length > 0,
      detail:
        calls.length > 0
          ? `the CA called validateRequest (${calls.length}x)`
          : 'the CA never called validateRequest',
    });
  }

  /** What Intune shows for the deployment (from the CA's success or failure notification). */
  private notificationStep(step: StepSink, profileId: string, thumbprint: string | undefined): void {
    const [status] = this.emulator.deploymentStatuses({ deviceId: this.options.deviceId, profileId });
    const ok =
      thumbprint !== undefined &&
      status?.state === 'succeeded' &&
      status.certificateThumbprint?.toUpperCase() === thumbprint;
    step({
      step: 'notification',
      ok,
      detail: status
        ? `deployment ${status.state}${status.certificateThumbprint ? ` (${status.certificateThumbprint})` : ''}${status.errorDescription ? `: ${status.errorDescription}` : ''}`
        : 'no deployment status',
    });
  }

  private async fetch(r: Omit<DeviceHttpRequest, 'userAgent'>): Promise<DeviceHttpResponse> {
    const res = await deviceFetch({
      ...r,
      userAgent: this.behaviour.userAgent,
      ...(this.options.tlsCaPem ? { tlsCaPem: this.options.tlsCaPem } : {}),
      ...(this.options.timeoutMs ? { timeoutMs: this.options.timeoutMs } : {}),
    });
    this.exchanges.push(res.exchange);
    return res;
  }
}

/** Creates a simulated device for an emulator device (its platform decides how it speaks SCEP). */
export function createDevice(emulator: IntuneEmulator, options: SimulatedDeviceOptions): SimulatedDevice {
  return new SimulatedDevice(emulator, options);
}
