import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The server's Prometheus metrics, in a Registry of its own (never the global one). */
export interface ScepMetrics {
  readonly registry: Registry;
  /** Labels: `operation` (GetCACaps, PKIOperation/PKCSReq, crl, ocsp, ...) and `outcome`. */
  readonly requests: Counter<'operation' | 'outcome'>;
  readonly enrollmentDuration: Histogram<'outcome'>;
  readonly certificatesIssued: Counter;
  /** The server revokes nothing itself: the admin console / revocation jobs increment it. */
  readonly certificatesRevoked: Counter;
}

export interface MetricsOptions {
  /** Collect prom-client's default process metrics (default true). */
  defaultMetrics?: boolean;
  /** Prefix of the default process metrics (default none: the usual `process_*`, `nodejs_*` names). */
  prefix?: string;
}

export function createMetrics(o: MetricsOptions = {}): ScepMetrics {
  const registry = new Registry();
  if (o.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: o.prefix ?? '' });
  return {
    registry,
    requests: new Counter({
      name: 'scepkit_requests_total',
      help: 'HTTP requests by operation and outcome',
      labelNames: ['operation', 'outcome'] as const,
      registers: [registry],
    }),
    enrollmentDuration: new Histogram({
      name: 'scepkit_enrollment_duration_seconds',
      help: 'Time to answer a PKIOperation, from decoded request to encoded CertRep',
      labelNames: ['outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    certificatesIssued: new Counter({
      name: 'scepkit_certificates_issued_total',
      help: 'Certificates issued over SCEP',
      registers: [registry],
    }),
    certificatesRevoked: new Counter({
      name: 'scepkit_certificates_revoked_total',
      help: 'Certificates revoked',
      registers: [registry],
    }),
  };
}

/**
 * `scepkit_certificates{status="issued"|"revoked"|"expiring_30d"}`, read from the store at each scrape, so it counts
 * what every node and every command (CLI revocations, the Intune revocation worker) did.
 */
export function registerCertificateGauge(
  metrics: ScepMetrics,
  counts: () => Promise<{ issued: number; revoked: number; expiring: number }>,
): void {
  if (metrics.registry.getSingleMetric('scepkit_certificates')) return;
  new Gauge({
    name: 'scepkit_certificates',
    help: 'Certificates in the store by status (expiring_30d: valid and expiring within 30 days)',
    labelNames: ['status'] as const,
    registers: [metrics.registry],
    // Every worker of a cluster reads the same store: the cluster's figure is any one worker's, not their sum.
    aggregator: 'first',
    async collect() {
      const c = await counts();
      this.set({ status: 'issued' }, c.issued);
      this.set({ status: 'revoked' }, c.revoked);
      this.set({ status: 'expiring_30d' }, c.expiring);
    },
  });
}
