/**
 * Who a caller is: API keys map to tenants. `API_KEYS` and `ADMIN_API_KEYS` entries are
 * `name:key` or a bare `key`; a bare key is its own tenant, named `key-` + 12 hex of its
 * SHA-256 (stable across replicas and restarts, never the key itself). Several keys may share a
 * name (key rotation: `acme:old,acme:new` are one tenant). Without any key there is one tenant,
 * `default`, with admin rights (local development); jobs and datasets made before tenants
 * existed belong to it too.
 */
import { createHash, timingSafeEqual } from 'node:crypto'

/** A caller's identity: what it owns is stored under `id`. */
export interface Tenant {
  /** `[A-Za-z0-9_-]`, at most 64 characters: used verbatim in S3 keys and job tags. */
  id: string
  /** Admins see every tenant's jobs and datasets and manage endpoints. */
  admin: boolean
}

/** The tenant of a gateway without keys, and the owner of anything stored without one. */
export const DEFAULT_TENANT: Tenant = Object.freeze({ id: 'default', admin: true })
export const DEFAULT_TENANT_ID = DEFAULT_TENANT.id

/** A tenant name as written in API_KEYS / ADMIN_API_KEYS. */
export const TENANT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

// keys compare as SHA-256 digests: equal length always, so timingSafeEqual never throws and
// the comparison leaks neither the key nor its length
const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest()

interface Entry { digest: Buffer, tenant: Tenant }

/** The configured keys; `identify` compares a token against every one in constant time. */
export class Keyring {
  private readonly entries: readonly Entry[]

  private constructor (entries: Entry[]) {
    this.entries = entries
  }

  /** True when at least one key is configured (auth is on). */
  get enabled (): boolean {
    return this.entries.length > 0
  }

  /**
   * Parses the two variables; throws naming the variable and the entry's position (never the
   * key) for an empty name, a name outside TENANT_NAME, a key listed twice, or a tenant that
   * would be admin by one key and not by another.
   */
  static parse (apiKeys: string | undefined, adminApiKeys: string | undefined): Keyring {
    const entries: Entry[] = []
    const adminOf = new Map<string, boolean>()
    const seen = new Set<string>()
    const add = (variable: string, list: string | undefined, admin: boolean): void => {
      const items = (list ?? '').split(',').map(s => s.trim()).filter(Boolean)
      items.forEach((item, i) => {
        const where = `${variable} entry ${i + 1}`
        const colon = item.indexOf(':')
        const name = colon < 0 ? undefined : item.slice(0, colon)
        const key = colon < 0 ? item : item.slice(colon + 1)
        if (key === '') throw new Error(`${where} has an empty key`)
        if (name !== undefined && !TENANT_NAME.test(name)) throw new Error(`${where}: tenant name ${JSON.stringify(name)} must match ${String(TENANT_NAME)}`)
        if (name !== undefined && name.startsWith('key-')) throw new Error(`${where}: tenant names starting with "key-" are reserved for bare keys`)
        const hex = digest(key).toString('hex')
        if (seen.has(hex)) throw new Error(`${where} repeats a key given before`)
        seen.add(hex)
        const id = name ?? `key-${hex.slice(0, 12)}`
        const before = adminOf.get(id)
        if (before !== undefined && before !== admin) throw new Error(`${where}: tenant ${JSON.stringify(id)} is in both API_KEYS and ADMIN_API_KEYS`)
        adminOf.set(id, admin)
        entries.push({ digest: digest(key), tenant: Object.freeze({ id, admin }) })
      })
    }
    add('API_KEYS', apiKeys, false)
    add('ADMIN_API_KEYS', adminApiKeys, true)
    return new Keyring(entries)
  }

  /** The tenant whose key `token` is, or undefined; every key is compared (constant time overall). */
  identify (token: string): Tenant | undefined {
    const candidate = digest(token)
    let found: Tenant | undefined
    for (const entry of this.entries) {
      if (timingSafeEqual(candidate, entry.digest)) found = entry.tenant
    }
    return found
  }
}

/** True when `tenant` may see what `owner` made (its own, or any as an admin). */
export function canSee (tenant: Tenant, owner: string | undefined): boolean {
  return tenant.admin || (owner ?? DEFAULT_TENANT_ID) === tenant.id
}
