/**
 * Imports run one way: each layer of the gateway imports only the layers below it, so a newcomer
 * can read the code bottom up (schemas, pure libraries, AWS adapters, services, the HTTP shell,
 * plugins, routes, the app) and change a lower layer without reading the ones above. The table
 * is the rule; the README's folder table says it in one line. Reads the relative import
 * specifiers of every .ts file under src/, routes/ and schemas/ (TypeScript's own pre-processor:
 * static, `export ... from` and dynamic imports); no build.
 */
import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

interface Layer {
  /** Files of the layer: a folder ending in `/`, or one file; the longest match wins. */
  paths: readonly string[]
  /** Layers its files may import besides their own (every layer imports itself freely). */
  may: readonly LayerName[]
}

type LayerName = 'schemas' | 'util' | 'catalog' | 'identity' | 'batching' | 'evaluation' | 'sagemaker' | 'jumpstart' |
  'endpoints' | 'jobs' | 'openai' | 'realtime' | 'scoring' | 'config' | 'local' | 'http' | 'plugins' | 'routes' | 'app' | 'server' | 'cli'

/** Lowest first. */
const LAYERS: Record<LayerName, Layer> = {
  // the contract (validation, types, the OpenAPI document): the CLI and the document use it
  // without loading the server, so it knows nothing of the code that implements it
  schemas: { paths: ['schemas/'], may: [] },
  // helpers with no home of their own: a leaf everyone may use
  util: { paths: ['src/util/'], may: [] },
  // the error catalog's errors, built from its table (schemas/error-catalog.ts)
  catalog: { paths: ['src/errors.ts'], may: ['schemas', 'util'] },
  // who a caller is and what instances a tenant may use: plain data every service checks against
  identity: { paths: ['src/tenants.ts', 'src/instance-limits.ts'], may: ['util'] },
  // pure libraries (DESIGN: "the batcher is a library, not a route"): no AWS, no HTTP, no config,
  // testable under a fake clock; they know only the helpers
  batching: { paths: ['src/batching/'], may: ['util'] },
  evaluation: { paths: ['src/evaluation/'], may: ['util'] },
  // AWS adapters and codecs: the invoker implements the batcher's InvokeFn (and its errors),
  // S3 I/O wraps foreign errors into the catalog; no service logic, no configuration
  sagemaker: { paths: ['src/sagemaker/'], may: ['schemas', 'util', 'catalog', 'batching'] },
  // JumpStart's public catalog read as the SageMaker Python SDK reads it (manifest, spec files,
  // version wildcards) and what a spec gives a deploy (image, model data, environment): reads S3
  // through the AWS adapters, knows nothing of endpoints, which use it to deploy by model id
  jumpstart: { paths: ['src/jumpstart/'], may: ['schemas', 'util', 'catalog', 'sagemaker'] },
  // services: no HTTP (DESIGN: "endpoint lifecycle and usage/cost (service; no HTTP)"), no
  // plugins, no configuration (they take their options from the plugins that build them);
  // among themselves endpoints < jobs (job usage needs the price table) < openai (files and
  // batches are datasets and transform jobs)
  endpoints: { paths: ['src/endpoints/'], may: ['schemas', 'util', 'catalog', 'identity', 'batching', 'sagemaker', 'jumpstart'] },
  jobs: { paths: ['src/jobs/'], may: ['schemas', 'util', 'catalog', 'identity', 'batching', 'sagemaker', 'jumpstart', 'endpoints'] },
  openai: { paths: ['src/openai/'], may: ['schemas', 'util', 'catalog', 'identity', 'batching', 'sagemaker', 'jumpstart', 'endpoints', 'jobs'] },
  // the real-time service around the batcher (admission, outcomes, the batcher's errors in the catalog)
  realtime: { paths: ['src/realtime/'], may: ['schemas', 'util', 'catalog', 'identity', 'batching', 'sagemaker', 'jumpstart', 'endpoints'] },
  // the scoring service around evaluation (worker pool, evaluation's errors in the catalog)
  scoring: { paths: ['src/scoring/'], may: ['schemas', 'util', 'catalog', 'evaluation'] },
  // the env schema and what is derived from it once at boot (settings.ts): it reads the
  // services' own parsers and defaults (price table, job instance type), so it sits above them
  // and below everything that is given a configuration
  config: { paths: ['src/config.ts', 'src/config-table.ts', 'src/settings.ts'], may: ['schemas', 'util', 'catalog', 'identity', 'batching', 'sagemaker', 'jumpstart', 'endpoints', 'jobs'] },
  // the SageMaker-compatible local stack answers as AWS would: it shares SageMaker's rules and
  // codecs and takes its settings from the env schema; production code above does not import it
  // (only the process entry, which starts it, and buildApp, which may be handed it)
  local: { paths: ['src/local/'], may: ['schemas', 'util', 'sagemaker', 'config'] },
  // what every route shares: it maps the services' errors (so it sits above them), never
  // reaches into plugins or routes
  http: { paths: ['src/http/'], may: ['schemas', 'util', 'catalog', 'identity', 'batching', 'evaluation', 'sagemaker', 'jumpstart', 'endpoints', 'jobs', 'openai', 'realtime', 'scoring', 'config'] },
  // plugins only wire services (and HTTP hooks) onto the app; routes are registered by app.ts
  plugins: { paths: ['src/plugins/'], may: ['schemas', 'util', 'catalog', 'identity', 'batching', 'evaluation', 'sagemaker', 'jumpstart', 'endpoints', 'jobs', 'openai', 'realtime', 'scoring', 'config', 'http'] },
  routes: { paths: ['routes/'], may: ['schemas', 'util', 'catalog', 'identity', 'batching', 'evaluation', 'sagemaker', 'jumpstart', 'endpoints', 'jobs', 'openai', 'realtime', 'scoring', 'config', 'http', 'plugins'] },
  // buildApp: the ordered list of registrations; no process handling
  app: { paths: ['src/app.ts'], may: ['schemas', 'util', 'catalog', 'identity', 'batching', 'evaluation', 'sagemaker', 'jumpstart', 'endpoints', 'jobs', 'openai', 'realtime', 'scoring', 'config', 'http', 'plugins', 'routes', 'local'] },
  // the process entry: config, the local stack when no AWS endpoint is set, listen
  server: { paths: ['src/server.ts'], may: ['schemas', 'util', 'catalog', 'identity', 'batching', 'evaluation', 'sagemaker', 'config', 'local', 'app'] },
  // a client of the gateway over HTTP: the contract's schemas, local ROUGE (`evaluate`), the
  // README's config table (`npm run docs:config`) and, for `serve`, the process entry
  cli: { paths: ['src/cli/'], may: ['schemas', 'util', 'evaluation', 'config', 'server'] }
}

/** Imports that break the table today, each with its reason; `to` is a path prefix. */
const KNOWN_EXCEPTIONS: ReadonlyArray<{ from: string, to: string }> = []

/** The layer of a project path (`src/jobs/view.ts`), or undefined when the table has none. */
function layerOf (path: string): LayerName | undefined {
  let best: { name: LayerName, length: number } | undefined
  for (const [name, layer] of Object.entries(LAYERS) as Array<[LayerName, Layer]>) {
    for (const p of layer.paths) {
      const hit = p.endsWith('/') ? path.startsWith(p) : path === p
      if (hit && (best === undefined || p.length > best.length)) best = { name, length: p.length }
    }
  }
  return best?.name
}

async function tsFiles (folder: string): Promise<string[]> {
  // names relative to `folder` (Dirent.parentPath is missing before Node.js 20.12)
  const names = await readdir(join(ROOT, folder), { recursive: true })
  return names.filter(name => name.endsWith('.ts')).map(name => join(folder, name).split(sep).join('/'))
}

/** Every `file -> imported file` edge between project files (relative specifiers only). */
async function importEdges (): Promise<Array<{ from: string, to: string }>> {
  const files = (await Promise.all(['src', 'routes', 'schemas'].map(tsFiles))).flat()
  const edges: Array<{ from: string, to: string }> = []
  for (const from of files) {
    const text = await readFile(join(ROOT, from), 'utf8')
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue
      const to = normalize(join(dirname(from), fileName)).split(sep).join('/').replace(/\.js$/, '.ts')
      edges.push({ from, to })
    }
  }
  return edges
}

/** The edges the table forbids, as `file -> imported file (layer -> layer)`. */
export function upwardImports (edges: ReadonlyArray<{ from: string, to: string }>): string[] {
  const out: string[] = []
  for (const { from, to } of edges) {
    const a = layerOf(from)
    const b = layerOf(to)
    if (a === undefined) { out.push(`${from} is in no layer: add it to LAYERS in test/architecture/layers.test.ts`); continue }
    if (b === undefined) {
      // a project file no layer owns (a directory import, a new folder) would pass unseen
      if (/^(src|routes|schemas)\//.test(to)) out.push(`${from} -> ${to}: the imported file is in no layer (import the file itself, or add its folder to LAYERS)`)
      continue
    }
    if (a === b || LAYERS[a].may.includes(b)) continue
    if (KNOWN_EXCEPTIONS.some(e => e.from === from && to.startsWith(e.to))) continue
    out.push(`${from} -> ${to} (${a} may not import ${b})`)
  }
  return [...new Set(out)]
}

t.test('every layer imports only the layers below it', async t => {
  const edges = await importEdges()
  t.ok(edges.length > 300, `read the project's imports (${edges.length} edges)`)
  t.same(upwardImports(edges), [], 'imports against the layer table (test/architecture/layers.test.ts)')
})

t.test('the check names an upward import, an unplaced file and a stale exception', async t => {
  t.same(upwardImports([{ from: 'src/jobs/records.ts', to: 'src/http/errors.ts' }]), ['src/jobs/records.ts -> src/http/errors.ts (jobs may not import http)'])
  t.same(upwardImports([{ from: 'src/batching/batcher.ts', to: 'src/config.ts' }]), ['src/batching/batcher.ts -> src/config.ts (batching may not import config)'])
  t.same(upwardImports([{ from: 'src/plugins/security.ts', to: 'src/local/stack.ts' }]), ['src/plugins/security.ts -> src/local/stack.ts (plugins may not import local)'])
  t.same(upwardImports([{ from: 'src/new-thing.ts', to: 'src/util/index.ts' }]), ['src/new-thing.ts is in no layer: add it to LAYERS in test/architecture/layers.test.ts'])
  t.same(upwardImports([{ from: 'routes/ops.ts', to: 'src/plugins/security.ts' }]), [], 'a downward import passes')
})

t.test('every known exception is still needed', async t => {
  const edges = await importEdges()
  for (const e of KNOWN_EXCEPTIONS) {
    t.ok(edges.some(edge => edge.from === e.from && edge.to.startsWith(e.to)), `${e.from} -> ${e.to} is still imported (else remove the exception)`)
  }
})
