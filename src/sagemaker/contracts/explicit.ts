/**
 * A contract chosen by name instead of detected: the endpoint tag `t2t:contract` (written at
 * deploy) and ENDPOINT_CONTRACTS (for endpoints the gateway did not deploy) name one of these.
 * LMI needs its batching in the name, which detection reads from OPTION_ROLLING_BATCH.
 */
import { jumpstartList } from './jumpstart-list.js'
import { lmiDynamic, lmiRolling } from './lmi.js'
import { tgiContract, tgiLimits, type TgiLimits } from './tgi.js'
import type { ContainerContract } from './types.js'

import { CONTRACT_NAMES, type ExplicitContractName } from '../../../schemas/contracts.js'

/** The names a contract may be chosen by (schemas/contracts.ts). */
export const EXPLICIT_CONTRACT_NAMES = CONTRACT_NAMES
export type { ExplicitContractName }

/** True when `name` is one of EXPLICIT_CONTRACT_NAMES. */
export function isExplicitContractName (name: string): name is ExplicitContractName {
  return (EXPLICIT_CONTRACT_NAMES as readonly string[]).includes(name)
}

/**
 * The contract `name` chooses; a TGI one runs with TGI's launcher defaults
 * (MAX_CONCURRENT_REQUESTS 128, MAX_STOP_SEQUENCES 4, MAX_BEST_OF 2), an LMI one with LMI's
 * (256 in the rolling batch; no list bound for a dynamic batch).
 */
export function explicitContract (name: ExplicitContractName, env: Readonly<Record<string, string>> = {}): { contract: ContainerContract, tgi?: TgiLimits } {
  switch (name) {
    case 'jumpstart-list': return { contract: jumpstartList }
    case 'tgi': {
      // the container's own limits when its environment is known and valid, else the launcher's
      // defaults (an empty environment is always valid)
      const own = tgiLimits(env)
      const limits = typeof own === 'string' ? tgiLimits({}) as TgiLimits : own
      return { contract: tgiContract(limits.maxConcurrentRequests), tgi: limits }
    }
    case 'lmi-rolling': return { contract: lmiRolling() }
    case 'lmi-dynamic': return { contract: lmiDynamic(undefined) }
  }
}

/**
 * ENDPOINT_CONTRACTS (`endpoint=contract,...`) as a map; throws an Error naming the bad entry
 * (no `=`, an empty or repeated endpoint, a contract not in EXPLICIT_CONTRACT_NAMES).
 */
export function parseEndpointContracts (value: string): Map<string, ExplicitContractName> {
  const out = new Map<string, ExplicitContractName>()
  for (const raw of value.split(',')) {
    const entry = raw.trim()
    if (entry === '') continue
    const eq = entry.indexOf('=')
    const endpoint = eq < 0 ? '' : entry.slice(0, eq).trim()
    const contract = eq < 0 ? '' : entry.slice(eq + 1).trim()
    if (eq < 0 || endpoint === '') throw new Error(`entry ${JSON.stringify(entry)} is not endpoint=contract`)
    if (!isExplicitContractName(contract)) throw new Error(`entry ${JSON.stringify(entry)}: contract ${JSON.stringify(contract)} is not one of ${EXPLICIT_CONTRACT_NAMES.join(', ')}`)
    if (out.has(endpoint)) throw new Error(`entry ${JSON.stringify(entry)}: endpoint ${JSON.stringify(endpoint)} is named twice`)
    out.set(endpoint, contract)
  }
  return out
}

/** The name `contract` is chosen by: its own, LMI's with its batching. */
export function explicitNameOf (contract: Pick<ContainerContract, 'name' | 'takesList'>): ExplicitContractName {
  if (contract.name !== 'lmi') return contract.name
  return contract.takesList ? 'lmi-dynamic' : 'lmi-rolling'
}
