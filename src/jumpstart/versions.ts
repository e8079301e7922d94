/**
 * Picking a JumpStart model version the way the SageMaker Python SDK does
 * (aws/sagemaker-python-sdk `JumpStartModelsCache._select_version`, cache.py): `*` is the highest
 * version (`utils.get_latest_version`: `max(versions, key=packaging.version.Version)`); anything
 * else is the PEP 440 specifier `==<version>` (`SpecifierSet(f"=={version_str}")`), so `1.*` is
 * the highest 1.x.y, `1.2.*` the highest 1.2.y, and `1.2` matches `1.2.0` (release segments
 * compared with zero padding). JumpStart versions are plain release numbers (`2.3.7`); one that is
 * not (a pre-release) is never selected.
 */
import { JUMPSTART_VERSION_PATTERN } from '../../schemas/endpoints.js'

const VERSION_SPEC = new RegExp(JUMPSTART_VERSION_PATTERN)

/** Release segments of `v` (`2.3.7` → [2, 3, 7]); undefined when it is not a plain release number. */
export function releaseOf (v: string): number[] | undefined {
  return /^\d+(\.\d+)*$/.test(v) ? v.split('.').map(Number) : undefined
}

/** Compares two release numbers with zero padding (PEP 440: `1.2` == `1.2.0`); negative when a < b. */
export function compareReleases (a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

/** True when `wanted` is a version `selectVersion` can read (`*`, `1.2.3`, `1.*`). */
export function isVersionSpec (wanted: string): boolean {
  return VERSION_SPEC.test(wanted)
}

/**
 * The version of `available` that `wanted` selects (the highest that matches), or undefined when
 * none does. Throws RangeError for a `wanted` that is not a version specifier.
 */
export function selectVersion (wanted: string, available: readonly string[]): string | undefined {
  if (!isVersionSpec(wanted)) throw new RangeError(`${JSON.stringify(wanted)} is not a version: give "*", an exact version such as "2.3.7", or a prefix such as "1.*"`)
  const releases = available.flatMap(v => { const r = releaseOf(v); return r === undefined ? [] : [{ v, r }] })
  let matching: typeof releases
  if (wanted === '*') {
    matching = releases
  } else if (wanted.endsWith('.*')) {
    const prefix = wanted.slice(0, -2).split('.').map(Number)
    // PEP 440 prefix matching: the candidate's release, padded with zeros, starts with the prefix
    matching = releases.filter(({ r }) => prefix.every((n, i) => (r[i] ?? 0) === n))
  } else {
    const want = wanted.split('.').map(Number)
    matching = releases.filter(({ r }) => compareReleases(r, want) === 0)
  }
  if (matching.length === 0) return undefined
  return matching.reduce((best, x) => compareReleases(x.r, best.r) > 0 ? x : best).v
}

/** `versions` from highest to lowest (plain release numbers first, others after in text order). */
export function sortVersionsDescending (versions: readonly string[]): string[] {
  return [...versions].sort((a, b) => {
    const ra = releaseOf(a)
    const rb = releaseOf(b)
    if (ra !== undefined && rb !== undefined) return compareReleases(rb, ra)
    if (ra !== undefined) return -1
    if (rb !== undefined) return 1
    return a < b ? -1 : a > b ? 1 : 0
  })
}
