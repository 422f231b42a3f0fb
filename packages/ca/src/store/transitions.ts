import type { TransactionState } from './types.js';

/** States from which `updateTransaction` may move to each target state; `issued` is reached only by `issue`. */
export const ALLOWED_FROM: Readonly<Record<TransactionState, readonly TransactionState[]>> = {
  pending: [],
  approved: ['pending'],
  failed: ['pending', 'approved'],
  rejected: ['pending', 'approved'],
  issued: ['pending', 'approved'],
};

/** States in which the CSR is kept. */
export const CSR_KEPT_IN: readonly TransactionState[] = ['pending', 'approved'];
