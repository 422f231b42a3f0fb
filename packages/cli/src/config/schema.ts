import { z } from 'zod';
import { CAPABILITIES } from '@scepkit/scep';

/** One CA profile: what a SCEP endpoint issues (see the ca package's IssuanceProfile). */
export const ProfileSchema = z
  .object({
    validityDays: z.number().int().positive().optional(),
    maxValidityDays: z.number().int().positive().optional(),
    backdateSeconds: z.number().int().min(0).optional(),
    rsaMinBits: z.number().int().min(1024).optional(),
    defaultEku: z.array(z.string().regex(/^\d+(\.\d+)+$/, 'an OID')).optional(),
    allowedEku: z.array(z.string().regex(/^\d+(\.\d+)+$/, 'an OID')).optional(),
    onDisallowed: z.enum(['refuse', 'drop']).optional(),
    sid: z.enum(['never', 'intune-validated']).optional(),
    manualApproval: z.boolean().optional(),
  })
  .strict();

export const ChallengeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  z
    .object({
      type: z.literal('static'),
      /** File holding the password (mode 0600); SCEPKIT_STATIC_CHALLENGE overrides. */
      passwordFile: z.string().optional(),
    })
    .strict(),
  z.object({ type: z.literal('otp') }).strict(),
  z.object({ type: z.literal('intune') }).strict(),
]);

export const EndpointSchema = z
  .object({
    /** URL path, e.g. `/scep` or `/scep/intune`; `/pkiclient.exe` aliases are added automatically. */
    path: z.string().regex(/^\/[A-Za-z0-9._~\-/]*$/, 'a URL path starting with /'),
    profile: z.string().default('default'),
    challenge: ChallengeSchema.default({ type: 'static' }),
    /** GetCACaps keywords to advertise instead of the defaults (e.g. without POSTPKIOperation to force GET). */
    capabilities: z.array(z.enum(CAPABILITIES)).optional(),
  })
  .strict();

export const IntuneSchema = z
  .object({
    tenant: z.string().min(1),
    clientId: z.string().min(1),
    /** File holding the client secret; SCEPKIT_INTUNE_CLIENT_SECRET overrides. */
    clientSecretFile: z.string().optional(),
    certificateFile: z.string().optional(),
    privateKeyFile: z.string().optional(),
    authority: z.string().url().optional(),
    graphUrl: z.string().url().optional(),
    intuneResourceUrl: z.string().url().optional(),
    providerNameAndVersion: z.string().default('scepkit/0.1.0'),
    /** Extra CA certificate(s) (PEM) to trust for HTTPS to Entra/Graph/Intune (e.g. the emulator's). */
    tlsCaFile: z.string().optional(),
    /** Per-request timeout to Entra/Graph/Intune. */
    timeoutMs: z.number().int().positive().optional(),
    /** Sent as `caConfiguration` in success notifications (Intune returns it in revocation requests). */
    caConfiguration: z.string().optional(),
    /** Poll Intune's revocation queue (0 disables). */
    revocationIntervalSeconds: z.number().min(0).default(300),
    /** Retry undelivered failure notifications this often. */
    outboxIntervalSeconds: z.number().positive().default(10),
    /** Run `doctor` when `serve` starts (non-fatal; published on /healthz). */
    doctorAtStartup: z.boolean().default(true),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (Boolean(c.certificateFile) !== Boolean(c.privateKeyFile)) {
      ctx.addIssue({
        code: 'custom',
        path: [c.certificateFile ? 'privateKeyFile' : 'certificateFile'],
        message: 'certificateFile and privateKeyFile go together',
      });
    }
  });

/** The admin console under `/admin` (served only when this section is present). */
export const AdminSchema = z
  .object({
    /** File holding the scrypt hash (`scepkit admin-password` writes it); default <dataDir>/secrets/admin-password. */
    passwordHashFile: z.string().optional(),
    /** The scrypt hash itself (`scrypt$N$r$p$salt$hash`), never the password. */
    passwordHash: z.string().startsWith('scrypt$', 'a scrypt hash from `scepkit admin-password`').optional(),
    /** Recorded in the audit log as `admin:<name>`. */
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,32}$/, 'letters, digits, ".", "_" or "-" (at most 32)')
      .default('console'),
    /** Absolute session lifetime. */
    sessionTtlMinutes: z
      .number()
      .int()
      .min(5)
      .max(24 * 60)
      .default(60),
  })
  .strict()
  .refine((a) => !(a.passwordHash && a.passwordHashFile), {
    message: 'passwordHash and passwordHashFile: give one',
    path: ['passwordHash'],
  });

export const ConfigSchema = z
  .object({
    dataDir: z.string().default('./data'),
    server: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        /** The URL clients use (put in CRL/AIA extensions); defaults to http://host:port. */
        publicUrl: z.string().url().optional(),
        tls: z
          .object({
            enabled: z.boolean().default(false),
            certFile: z.string().optional(),
            keyFile: z.string().optional(),
          })
          .strict()
          .default({ enabled: false }),
        trustProxy: z.boolean().default(false),
        rateLimitPerMinute: z.number().int().positive().default(600),
        /**
         * Processes serving the port (node:cluster): one per core to use them all. Each enforces
         * rateLimitPerMinute / workers per client, so together they allow rateLimitPerMinute.
         */
        workers: z.number().int().min(1).max(64).default(1),
      })
      .strict()
      .default({
        host: '127.0.0.1',
        port: 8080,
        tls: { enabled: false },
        trustProxy: false,
        rateLimitPerMinute: 600,
        workers: 1,
      }),
    ca: z
      .object({
        keyType: z.enum(['rsa-2048', 'rsa-3072', 'rsa-4096', 'ec-p256', 'ec-p384']).default('rsa-3072'),
        commonName: z.string().min(1).default('scepkit Root CA'),
        organization: z.string().default('scepkit'),
        validityDays: z.number().int().positive().default(3650),
        /** Issue an NDES-style RA for SCEP (recommended; Windows needs it). */
        ra: z.boolean().default(true),
        /** File holding the key passphrase; SCEPKIT_CA_PASSPHRASE overrides. */
        passphraseFile: z.string().optional(),
        /**
         * Rollover: PEM file with the next CA certificate (then its chain). Served by GetNextCACert so clients
         * can fetch and trust it before the switch (RFC 8894 §3.5.3).
         */
        nextCaChainFile: z.string().optional(),
      })
      .strict()
      .default({
        keyType: 'rsa-3072',
        commonName: 'scepkit Root CA',
        organization: 'scepkit',
        validityDays: 3650,
        ra: true,
      }),
    store: z
      .discriminatedUnion('type', [
        z
          .object({
            type: z.literal('sqlite'),
            path: z.string().optional(),
            synchronous: z.enum(['FULL', 'NORMAL']).default('FULL'),
          })
          .strict(),
        z
          .object({
            type: z.literal('postgres'),
            url: z.string().min(1),
            schema: z
              .string()
              .regex(/^[a-z_][a-z0-9_]*$/)
              .default('scepkit'),
            // false behind PgBouncer < 1.21 in transaction pooling (no prepared statements across connections)
            preparedStatements: z.boolean().default(true),
          })
          .strict(),
      ])
      .default({ type: 'sqlite', synchronous: 'FULL' }),
    profiles: z.record(z.string(), ProfileSchema).default({ default: {} }),
    endpoints: z
      .array(EndpointSchema)
      .min(1)
      .default([{ path: '/scep', profile: 'default', challenge: { type: 'static' } }]),
    intune: IntuneSchema.optional(),
    admin: AdminSchema.optional(),
    crl: z
      .object({
        validityHours: z.number().positive().default(24),
        refreshHours: z.number().positive().default(12),
      })
      .strict()
      .default({ validityHours: 24, refreshHours: 12 }),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .default({ level: 'info' }),
  })
  .strict()
  .superRefine((c, ctx) => {
    c.endpoints.forEach((e, i) => {
      if (!c.profiles[e.profile]) {
        ctx.addIssue({
          code: 'custom',
          path: ['endpoints', i, 'profile'],
          message: `no profile named "${e.profile}"`,
        });
      }
      if (e.challenge.type === 'intune' && !c.intune) {
        ctx.addIssue({
          code: 'custom',
          path: ['endpoints', i, 'challenge'],
          message: 'an intune challenge needs the "intune" section',
        });
      }
    });
    if (
      c.server.tls.enabled !== Boolean(c.server.tls.certFile) &&
      c.server.tls.certFile &&
      !c.server.tls.keyFile
    ) {
      ctx.addIssue({ code: 'custom', path: ['server', 'tls', 'keyFile'], message: 'certFile needs keyFile' });
    }
  });

export type Config = z.infer<typeof ConfigSchema>;
export type EndpointConfig = z.infer<typeof EndpointSchema>;
export type ProfileConfig = z.infer<typeof ProfileSchema>;
export type IntuneConfig = z.infer<typeof IntuneSchema>;
export type AdminConfig = z.infer<typeof AdminSchema>;
