/**
 * Which SageMaker instances a tenant may ask for, so no key can start a bill nobody meant: a
 * non-admin tenant's transform jobs (and so its OpenAI batches) run only on the instance types
 * of TENANT_INSTANCE_TYPES, at most TENANT_MAX_INSTANCE_COUNT instances per job; an admin may
 * choose any type SageMaker has, at most ADMIN_MAX_INSTANCE_COUNT instances per job, endpoint
 * deployment or scale. Endpoints are deployed and scaled by admins only (endpoints/lifecycle.ts).
 */
import type { Tenant } from './tenants.js'

/** The limits, parsed once from the config. */
export interface InstanceLimits {
  /** Instance types a non-admin tenant may use. */
  tenantTypes: readonly string[]
  tenantMaxCount: number
  adminMaxCount: number
}

/** A choice of instances in a request, with the fields that carry it (for the message). */
export interface InstanceChoice {
  type?: { field: string, value: string }
  count: { field: string, value: number }
}

/** Parses a comma-separated TENANT_INSTANCE_TYPES. */
export function parseInstanceTypes (list: string): string[] {
  return list.split(',').map(s => s.trim()).filter(s => s !== '')
}

/** Why `tenant` may not have `choice`, naming the field, the value and the variable; undefined when it may. */
export function instanceRefusal (limits: InstanceLimits, tenant: Tenant, choice: InstanceChoice): string | undefined {
  const who = `tenant ${JSON.stringify(tenant.id)}`
  const max = tenant.admin ? limits.adminMaxCount : limits.tenantMaxCount
  if (choice.count.value > max) {
    return `${choice.count.field} ${choice.count.value} is more than ${who} may use: at most ${max} instances (${tenant.admin ? 'ADMIN_MAX_INSTANCE_COUNT, for admins' : 'TENANT_MAX_INSTANCE_COUNT; admins may use more'})`
  }
  if (!tenant.admin && choice.type !== undefined && !limits.tenantTypes.includes(choice.type.value)) {
    return `${choice.type.field} ${JSON.stringify(choice.type.value)} is not an instance type ${who} may use; allowed: ${limits.tenantTypes.join(', ')} (TENANT_INSTANCE_TYPES; admins may use any)`
  }
  return undefined
}
