/** Reading a container's settings from a model's Environment (string values, as SageMaker stores them). */

/** The first of `names` set in `env` as a positive integer; undefined when none is set; a string naming the variable when it is not one. */
export function positiveIntegerEnv (env: Readonly<Record<string, string>>, ...names: string[]): number | undefined | string {
  const name = names.find((n) => env[n] !== undefined)
  if (name === undefined) return undefined
  const value = env[name].trim()
  return /^[1-9]\d*$/.test(value) ? Number(value) : `${name} ${JSON.stringify(env[name])} is not a positive integer`
}
