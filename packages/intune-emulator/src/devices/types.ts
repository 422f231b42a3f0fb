import type { KeyObject, webcrypto } from 'node:crypto';
import type { ContentCipher, DigestName, KeyTransport } from '@scepkit/scep';
import type { HttpExchange } from './http.js';

export type DeviceStepName =
  'check-in' | 'GetCACaps' | 'GetCACert' | 'PKIOperation' | 'validation' | 'notification' | 'install';

/** One step of an enrollment, with its outcome; HTTP steps carry the exchange. */
export interface DeviceStep {
  step: DeviceStepName;
  profileId: string;
  ok: boolean;
  detail: string;
  http?: HttpExchange;
}

/** A certificate the device installed (it keeps the key; Intune learns of it from the CA's successNotification). */
export interface InstalledCertificate {
  profileId: string;
  der: Uint8Array;
  pem: string;
  subject: string;
  /** Hex, as in the certificate. */
  serialNumber: string;
  /** Upper-case hex SHA-1. */
  thumbprint: string;
  notBefore: Date;
  notAfter: Date;
  /** DER SubjectPublicKeyInfo. */
  publicKey: Uint8Array;
  privateKey: KeyObject;
  transactionId: string;
  renewalThresholdPercent: number;
  /** How the request was sent (for demos and tests). */
  request: {
    messageType: 'PKCSReq';
    method: 'GET' | 'POST';
    digest: DigestName;
    cipher: ContentCipher;
    keyTransport: KeyTransport;
    polls: number;
  };
}

export interface SimulatedDeviceOptions {
  tenantId: string;
  deviceId: string;
  /** Makes the device's key pair (default: a fresh RSA key of the profile's size). Tests pass fixed keys. */
  generateKeys?: (bits: number) => Promise<webcrypto.CryptoKeyPair>;
  /** Windows key transport: RSA-OAEP (default) or PKCS#1 v1.5. */
  windowsKeyTransport?: KeyTransport;
  /** Extra CAs (PEM) trusted for an HTTPS SCEP server. */
  tlsCaPem?: string;
  /** Wait between CertPolls while the CA answers PENDING (default 5000 ms; Windows' RetryDelay is minutes). */
  pollIntervalMs?: number;
  /** CertPolls before giving up (default 3, Windows' RetryCount). */
  maxPolls?: number;
  sleep?: (ms: number) => Promise<void>;
  timeoutMs?: number;
}

export interface EnrollOptions {
  /** Use this SCEP server URL instead of the profile's. */
  scepUrl?: string;
  /** The trusted root (PEM) instead of the profile's (the Windows `CAThumbprint` check uses it). */
  trustCaPem?: string;
  /** Enroll only this profile's payload. */
  profileId?: string;
}

export interface EnrollResult {
  /** The first certificate installed. */
  certificate: InstalledCertificate;
  /** One per payload enrolled. */
  certificates: InstalledCertificate[];
  steps: DeviceStep[];
}

export interface RenewResult {
  renewed: InstalledCertificate[];
  steps: DeviceStep[];
}

/** Where an enrollment reports its steps. */
export type StepSink = (s: Omit<DeviceStep, 'profileId'>) => void;
