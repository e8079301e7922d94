// Batch Transform's DataProcessing (InputFilter, JoinSource, OutputFilter), as the local job
// runner applies it to each record. Pure: no S3, no clock.
//
// Source: "Associate Prediction Results with Input Records",
// https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html, and the
// API reference https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataProcessing.html:
//   - SageMaker supports a subset of JSONPath: `$` (required first), `.<name>`, `*`,
//     `['<name>' (,'<name>')]`, `[<number> (,<number>)]` (negative from the end), and
//     `[<start>:<end>]` (either omitted: the first / last element); "additional nesting of
//     children within brackets is not supported" (`['child2.grandchild']`). The guide's CSV example
//     reads slices as inclusive of both ends (`$[1:4]` = the second through fifth columns), and
//     the API's `$[0,5:]` mixes an index and a slice in one bracket.
//   - each filter is at most 63 characters (API_DataProcessing, Length Constraints).
//   - JoinSource Input, JSON: the transformed data is added to the input object as
//     `SageMakerOutput` (an input member of that name is overwritten); an input that is not a
//     key-value object becomes `{"SageMakerInput": <input>, "SageMakerOutput": <output>}`.
//   - "If you specify indexes that aren't within the dimension size of the joined dataset, you
//     get an error": here an index out of range fails the record (so the job).
// Decisions where the pages say nothing (the JSONPath semantics are Jayway JsonPath's, which the
// guide links): a path of single names and single indexes is definite and yields the value
// itself, a missing member being an error; several names in the last bracket yield one object
// of the members present (what `$['id','SageMakerOutput']` writes); `*`, unions and slices
// yield a list.

/** One step of a parsed path. */
type Step =
  | { kind: 'names', names: string[] }
  | { kind: 'wildcard' }
  | { kind: 'indexes', items: Array<{ index: number } | { start: number | undefined, end: number | undefined }> }

/** A JSONPath SageMaker accepts, parsed. */
export interface JsonPath {
  source: string
  steps: Step[]
}

/** A path SageMaker does not support, or one that cannot be applied to a record. */
export class JsonPathError extends Error {
  override readonly name = 'JsonPathError'
}

/** Longest InputFilter/OutputFilter (API_DataProcessing). */
export const MAX_FILTER_LENGTH = 63

/** The identity filter, every filter's default. */
export const ROOT_FILTER = '$'

const NAME = /^[^.[\]()?@*,'"\s:]+/
const INTEGER = /^-?\d+$/
const SLICE = /^(-?\d+)?:(-?\d+)?$/

function readBracket (source: string, open: number): { content: string, next: number } {
  let quote: string | undefined
  for (let i = open + 1; i < source.length; i++) {
    const c = source[i]
    if (quote !== undefined) {
      if (c === quote) quote = undefined
    } else if (c === '\'' || c === '"') {
      quote = c
    } else if (c === ']') {
      return { content: source.slice(open + 1, i).trim(), next: i + 1 }
    }
  }
  throw new JsonPathError(`the bracket at position ${open} is not closed`)
}

function parseNames (content: string): string[] {
  const names: string[] = []
  let rest = content
  for (;;) {
    const m = /^\s*(['"])(.*?)\1\s*/.exec(rest)
    if (m === null) throw new JsonPathError(`[${content}] is not a list of quoted names`)
    if (m[2].includes('.')) throw new JsonPathError(`'${m[2]}': nesting of children within brackets is not supported`)
    names.push(m[2])
    rest = rest.slice(m[0].length)
    if (rest === '') return names
    if (!rest.startsWith(',')) throw new JsonPathError(`[${content}] is not a list of quoted names`)
    rest = rest.slice(1)
  }
}

function parseIndexes (content: string): Step {
  if (content.startsWith('?') || content.startsWith('(')) throw new JsonPathError(`[${content}]: filter and script expressions are not supported`)
  const items = content.split(',').map((part) => {
    const p = part.trim()
    if (INTEGER.test(p)) return { index: Number(p) }
    const slice = SLICE.exec(p)
    if (slice !== null) return { start: slice[1] === undefined ? undefined : Number(slice[1]), end: slice[2] === undefined ? undefined : Number(slice[2]) }
    throw new JsonPathError(`[${content}]: '${p}' is neither an index nor a <start>:<end> slice (a step is not supported)`)
  })
  return { kind: 'indexes', items }
}

/** Parses a filter as SageMaker reads it; throws JsonPathError naming what is not supported. */
export function parseJsonPath (source: string): JsonPath {
  if (source.length > MAX_FILTER_LENGTH) throw new JsonPathError(`it is longer than ${MAX_FILTER_LENGTH} characters`)
  if (!source.startsWith('$')) throw new JsonPathError('it must start with $ (the root element)')
  const steps: Step[] = []
  let i = 1
  while (i < source.length) {
    const c = source[i]
    if (c === '.') {
      const after = source[i + 1]
      if (after === '.') throw new JsonPathError(`'..' (deep scan) at position ${i} is not a supported operator`)
      if (after === '[') { i++; continue }
      if (after === '*') { steps.push({ kind: 'wildcard' }); i += 2; continue }
      const name = NAME.exec(source.slice(i + 1))
      if (name === null) throw new JsonPathError(`a name must follow '.' at position ${i}`)
      steps.push({ kind: 'names', names: [name[0]] })
      i += 1 + name[0].length
      continue
    }
    if (c === '[') {
      const { content, next } = readBracket(source, i)
      if (content === '*') steps.push({ kind: 'wildcard' })
      else if (content.startsWith('\'') || content.startsWith('"')) steps.push({ kind: 'names', names: parseNames(content) })
      else steps.push(parseIndexes(content))
      i = next
      continue
    }
    throw new JsonPathError(`'${c}' at position ${i} is not a supported operator`)
  }
  return { source, steps }
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function kindOf (value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

function position (index: number, length: number, what: string): number {
  const at = index < 0 ? length + index : index
  if (at < 0 || at >= length) throw new JsonPathError(`${what} ${index} is outside an array of ${length}`)
  return at
}

/** The part of `value` a parsed path selects; throws JsonPathError when it cannot be applied. */
export function selectPath (path: JsonPath, value: unknown): unknown {
  let nodes: unknown[] = [value]
  let definite = true
  path.steps.forEach((step, k) => {
    const leaf = k === path.steps.length - 1
    const next: unknown[] = []
    const stepDefinite = step.kind === 'names'
      ? step.names.length === 1 || leaf
      : step.kind === 'indexes' && step.items.length === 1 && 'index' in step.items[0]
    for (const node of nodes) {
      if (step.kind === 'wildcard') {
        if (Array.isArray(node)) next.push(...node)
        else if (isObject(node)) next.push(...Object.values(node))
        continue
      }
      if (step.kind === 'names') {
        if (!isObject(node)) {
          if (definite) throw new JsonPathError(`['${step.names.join('\',\'')}'] needs an object, found ${kindOf(node)}`)
          continue
        }
        if (step.names.length === 1) {
          const [name] = step.names
          if (Object.hasOwn(node, name)) next.push(node[name])
          else if (definite) throw new JsonPathError(`the record has no member '${name}'`)
        } else if (leaf) {
          next.push(Object.fromEntries(step.names.filter((n) => Object.hasOwn(node, n)).map((n) => [n, node[n]])))
        } else {
          for (const n of step.names) if (Object.hasOwn(node, n)) next.push(node[n])
        }
        continue
      }
      if (!Array.isArray(node)) {
        if (definite) throw new JsonPathError(`an index needs an array, found ${kindOf(node)}`)
        continue
      }
      for (const item of step.items) {
        if ('index' in item) {
          next.push(node[position(item.index, node.length, 'index')])
          continue
        }
        const start = item.start === undefined ? 0 : position(item.start, node.length, 'slice start')
        const end = item.end === undefined ? node.length - 1 : position(item.end, node.length, 'slice end')
        next.push(...node.slice(start, end + 1))
      }
    }
    definite = definite && stepDefinite
    nodes = next
  })
  return definite ? nodes[0] : nodes
}

/** A job's DataProcessing, parsed (defaults filled in). */
export interface DataProcessingSettings {
  inputFilter: JsonPath
  joinSource: 'None' | 'Input'
  outputFilter: JsonPath
}

/** DataProcessing as CreateTransformJob takes it. */
export interface DataProcessingSpec {
  InputFilter?: string
  JoinSource?: string
  OutputFilter?: string
}

/** Parses a job's DataProcessing; throws JsonPathError (prefixed with the member) for an unsupported filter. */
export function dataProcessingOf (spec: DataProcessingSpec | undefined): DataProcessingSettings {
  const parse = (member: string, source: string | undefined): JsonPath => {
    try {
      return parseJsonPath(source ?? ROOT_FILTER)
    } catch (err) {
      if (err instanceof JsonPathError) throw new JsonPathError(`${member} ${JSON.stringify(source)} is not a JSONPath SageMaker supports: ${err.message}`)
      throw err
    }
  }
  return {
    inputFilter: parse('InputFilter', spec?.InputFilter),
    joinSource: spec?.JoinSource === 'Input' ? 'Input' : 'None',
    outputFilter: parse('OutputFilter', spec?.OutputFilter)
  }
}

/** True when the settings change nothing: the container sees each record as written and its output is written as answered. */
export function isIdentity (dp: DataProcessingSettings): boolean {
  return dp.inputFilter.steps.length === 0 && dp.joinSource === 'None' && dp.outputFilter.steps.length === 0
}

/** JoinSource Input for JSON: the output under `SageMakerOutput` of the input object, or both wrapped when the input is not an object. */
export function joinInput (input: unknown, output: unknown): Record<string, unknown> {
  return isObject(input) ? { ...input, SageMakerOutput: output } : { SageMakerInput: input, SageMakerOutput: output }
}

/** What is written for one record: its output, joined with the input when asked, through the OutputFilter. */
export function assembleOutput (dp: DataProcessingSettings, input: unknown, output: unknown): unknown {
  return selectPath(dp.outputFilter, dp.joinSource === 'Input' ? joinInput(input, output) : output)
}
