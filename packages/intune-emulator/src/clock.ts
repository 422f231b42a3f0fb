/** Milliseconds since the epoch; injected so tests can pin time. */
export type Clock = () => number;

export const SYSTEM_CLOCK: Clock = () => Date.now();
