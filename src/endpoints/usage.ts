/**
 * Instance time and its estimated cost, computed from what SageMaker reports (pure: the clock is
 * an argument). Jobs: TransformStartTime to TransformEndTime (or now, while running) × instance
 * count. Endpoints: the instance-seconds accrued before the current capacity segment plus the
 * segment so far (since it went InService, or since its last scale) × its instance count.
 */
import type { Usage } from '../../schemas/endpoints.js'
import { estimateCost, roundTo, type PriceTable } from './prices.js'

/** Decimal places of instance-seconds: milliseconds, SageMaker's own time resolution. */
const SECONDS_DECIMALS = 3

/** Seconds between two epoch-ms instants, never negative. */
export function secondsBetween (fromMs: number, toMs: number): number {
  return Math.max(0, toMs - fromMs) / 1000
}

/** Usage of a transform job; 0 s before it starts. */
export function jobUsage (prices: PriceTable, job: { instanceType: string, instanceCount: number, startMs?: number, endMs?: number }, nowMs: number): Usage {
  const seconds = job.startMs === undefined ? 0 : secondsBetween(job.startMs, job.endMs ?? nowMs) * job.instanceCount
  return usageOf(prices, job.instanceType, job.instanceCount, seconds)
}

/** Where an endpoint's capacity accounting stands (kept in its tags, see tags.ts). */
export interface CapacityLedger {
  /** Instance-seconds of the segments before the current one. */
  accruedSeconds: number
  /** Epoch ms the current segment began (InService, or the last scale); undefined before InService. */
  sinceMs?: number
  /** Instances in the current segment. */
  count: number
}

/** Instance-seconds of an endpoint's ledger up to `untilMs`. */
export function ledgerSeconds (ledger: CapacityLedger, untilMs: number): number {
  const current = ledger.sinceMs === undefined ? 0 : secondsBetween(ledger.sinceMs, untilMs) * ledger.count
  return ledger.accruedSeconds + current
}

/** The ledger after the capacity changes to `count` at `atMs` (the old segment is accrued). */
export function rescale (ledger: CapacityLedger, count: number, atMs: number): CapacityLedger {
  return { accruedSeconds: roundTo(ledgerSeconds(ledger, atMs), SECONDS_DECIMALS), sinceMs: atMs, count }
}

/** Usage of an endpoint; invocations and items are what the gateway sent it. */
export function endpointUsage (prices: PriceTable, instanceType: string, ledger: CapacityLedger, untilMs: number, calls: { invocations: number, items: number }): Usage {
  return {
    ...usageOf(prices, instanceType, ledger.count, ledgerSeconds(ledger, untilMs)),
    invocations: calls.invocations,
    items: calls.items,
    invocationsSaved: Math.max(0, calls.items - calls.invocations)
  }
}

function usageOf (prices: PriceTable, instanceType: string, instanceCount: number, seconds: number): Usage {
  const instanceSeconds = roundTo(seconds, SECONDS_DECIMALS)
  return { instanceType, instanceCount, instanceSeconds, estimatedCostUsd: estimateCost(prices, instanceType, instanceSeconds) }
}
