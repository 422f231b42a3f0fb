import { setTimeout as sleep } from 'node:timers/promises';
import type { CaCerts, PreparedRequest } from './messages.js';
import { percentile, pkiSender, pointResult, startMeter, verifyAnswers } from './load-generator.js';
import type { Answer, PointOptions, PointOutcome, PointResult } from './load-generator.js';

/** A request started more than this after its scheduled time counts as late. */
export const LATE_MS = 5;

/** An open-loop point: `concurrency` in the result is the cap on requests in flight. */
export interface OpenLoopResult extends PointResult {
  targetRate: number;
  /** Requests started more than LATE_MS after their scheduled time (cap reached or generator behind). */
  late: number;
  /** Latency from the request's actual start, without the wait for a free slot (p50Ms/p99Ms count it). */
  serviceP50Ms: number;
  serviceP99Ms: number;
}

/**
 * Open loop: request i is due at t0 + i / rate, whether or not earlier ones were answered, with at most `cap`
 * in flight (a due request waits for a free slot and is counted late). Latency is measured from the due time,
 * so a server that falls behind shows it (no coordinated omission); the achieved rate is successes over the
 * time from t0 to the last answer.
 */
export async function runOpenLoop(
  o: PointOptions,
  ca: CaCerts,
  requests: readonly PreparedRequest[],
  rate: number,
  cap: number,
): Promise<PointOutcome & { result: OpenLoopResult }> {
  const sender = pkiSender(o.targets, cap);
  const answers: Answer[] = new Array<Answer>(requests.length);
  const latencies: number[] = [];
  const service: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let late = 0;
  let sent = 0;
  const meter = startMeter(o.targets.map((t) => t.pid));
  const t0 = performance.now();
  const deadline = t0 + o.maxSeconds * 1000;
  for (let i = 0; i < requests.length; i++) {
    const due = t0 + (i * 1000) / rate;
    if (due > deadline) break;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    while (inFlight.size >= cap) await Promise.race(inFlight);
    const start = performance.now();
    if (start - due > LATE_MS) late++;
    sent++;
    const p = sender.send(i, requests[i]!).then((a) => {
      const end = performance.now();
      answers[i] = a;
      latencies.push(end - due);
      service.push(end - start);
      inFlight.delete(p);
    });
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - t0) / 1000;
  const metered = meter();
  sender.close();
  const verified = await verifyAnswers(requests, answers, sent, ca);
  service.sort((a, b) => a - b);
  return {
    result: {
      ...pointResult(o, cap, sent, seconds, latencies, verified, metered),
      targetRate: rate,
      late,
      serviceP50Ms: percentile(service, 50),
      serviceP99Ms: percentile(service, 99),
    },
    serials: verified.serials,
  };
}
