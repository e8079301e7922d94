/**
 * What instance time costs: on-demand hourly prices (USD) of the SageMaker instance types
 * JumpStart FLAN-T5 deploys on, for real-time endpoints and batch transform alike (SageMaker
 * bills both per instance-second at the instance's on-demand rate). Every cost the gateway
 * reports is an estimate from this table; PRICES_FILE replaces it with the operator's own.
 */
import { readFileSync } from 'node:fs'
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'

export const PriceTableSchema = Type.Object({
  source: Type.String({ minLength: 1, description: 'Where the figures come from, and how far they were checked.' }),
  date: Type.String({ minLength: 1, description: 'When the figures were taken (ISO 8601 date).' }),
  region: Type.String({ minLength: 1, description: 'The AWS region the prices are for.' }),
  /** USD per instance-hour, by instance type (`ml.g5.2xlarge`). */
  hourlyUsd: Type.Record(Type.String({ pattern: '^ml\\.' }), Type.Number({ minimum: 0 }))
}, { additionalProperties: false })
export type PriceTable = Static<typeof PriceTableSchema>

/**
 * The built-in table. The figures could NOT be checked against aws.amazon.com/sagemaker/pricing
 * here (no internet where it was written, and the stored copy of that page has no figures: it
 * renders them with JavaScript). They are the us-east-1 real-time inference on-demand prices as
 * remembered from that page; the few that third-party pages quote agree to the cent
 * (ml.g5.xlarge 1.41, ml.g5.2xlarge 1.52, ml.p4d.24xlarge 37.69). Treat them as indicative and
 * set PRICES_FILE for figures you rely on.
 */
export const DEFAULT_PRICES: PriceTable = {
  source: 'UNVERIFIED: recalled us-east-1 on-demand real-time inference prices of https://aws.amazon.com/sagemaker/pricing/ (not fetched: no internet when written); spot-checked only against third-party pages (ml.g5.xlarge, ml.g5.2xlarge, ml.p4d.24xlarge). Set PRICES_FILE for figures you rely on.',
  date: '2025-10-01',
  region: 'us-east-1',
  hourlyUsd: {
    'ml.m5.large': 0.115,
    'ml.m5.xlarge': 0.23,
    'ml.m5.2xlarge': 0.461,
    'ml.m5.4xlarge': 0.922,
    'ml.g4dn.xlarge': 0.7364,
    'ml.g4dn.2xlarge': 0.94,
    'ml.g4dn.4xlarge': 1.505,
    'ml.g4dn.8xlarge': 2.72,
    'ml.g4dn.12xlarge': 4.89,
    'ml.g5.xlarge': 1.408,
    'ml.g5.2xlarge': 1.515,
    'ml.g5.4xlarge': 2.03,
    'ml.g5.8xlarge': 3.06,
    'ml.g5.12xlarge': 7.09,
    'ml.g5.16xlarge': 5.12,
    'ml.g5.24xlarge': 10.18,
    'ml.g5.48xlarge': 20.36,
    'ml.p3.2xlarge': 3.825,
    'ml.p3.8xlarge': 14.688,
    'ml.p3.16xlarge': 28.152,
    'ml.p4d.24xlarge': 37.688
  }
}

/** Reads PRICES_FILE (a JSON PriceTable), or the built-in table; throws naming the variable. */
export function loadPriceTable (file: string | undefined): PriceTable {
  if (file === undefined) return DEFAULT_PRICES
  let value: unknown
  try {
    value = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new Error(`invalid configuration: PRICES_FILE ${JSON.stringify(file)}: ${(err as Error).message}`)
  }
  if (!Value.Check(PriceTableSchema, value)) {
    const first = [...Value.Errors(PriceTableSchema, value)][0]
    const where = first === undefined ? '' : ` at ${first.instancePath === '' ? '/' : first.instancePath}: ${first.message}`
    throw new Error(`invalid configuration: PRICES_FILE ${JSON.stringify(file)} is not {"source","date","region","hourlyUsd":{"ml.<type>": usd}}${where}`)
  }
  return value
}

/** Decimal places of an estimated cost: a hundredth of a cent, no finer (the table is not). */
const COST_DECIMALS = 4

/** Estimated USD of `instanceSeconds` on `instanceType`; null when the table has no price for it. */
export function estimateCost (prices: PriceTable, instanceType: string, instanceSeconds: number): number | null {
  const hourly = prices.hourlyUsd[instanceType]
  if (hourly === undefined) return null
  return roundTo(instanceSeconds / 3600 * hourly, COST_DECIMALS)
}

/** `n` rounded to `decimals` places (half away from zero, as money is rounded). */
export function roundTo (n: number, decimals: number): number {
  const f = 10 ** decimals
  return Math.sign(n) * Math.round(Math.abs(n) * f + Number.EPSILON) / f
}
