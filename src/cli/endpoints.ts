// `text2text-gateway endpoints <subcommand>` and `text2text-gateway usage`: real-time endpoints
// over /v1/endpoints (deploy waits with a progress line, as `jobs submit --wait` does) and the
// instance time and estimated cost of jobs and endpoints over /v1/usage.
import { setTimeout as sleep } from 'node:timers/promises'
import { DEFAULT_JUMPSTART_VERSION, type Endpoint, type UsageReport } from '../../schemas/endpoints.js'
import { Gateway, isRecord } from './client.js'
import { CliError, ConnectionError, EXIT_OK, HttpError, UsageError } from './errors.js'
import { duration, shortDate, table } from './format.js'
import { CLIENT_OPTIONS_HELP, connection, integerOption, isTTY, dispatchSubcommand, parseClientArgs, secondsOption, type CliContext, type Command } from './options.js'

/** Longest gap between two polls while waiting (ms); the first come sooner. */
const POLL_INTERVAL_MS = 2000
const FIRST_POLL_MS = 100
/** Transient poll failures in a row tolerated while waiting. */
const MAX_POLL_FAILURES = 5

export const ENDPOINTS_USAGE = `usage: text2text-gateway endpoints <subcommand> [options]

Real-time endpoints on a running gateway (deploy, scale and delete need an admin key).

subcommands:
  deploy <name>          deploy an endpoint (--model NAME, --image/--model-data-url/--role, or
                         --jumpstart MODEL_ID --role) and wait until it is InService (--no-wait to return at once)
  list                   the endpoints the gateway serves
  describe <name>        one endpoint: status, instances, usage so far
  scale <name> <count>   change its instance count (at least 1)
  delete <name>          tear it down (and the config and model the gateway created)

Run "text2text-gateway endpoints <subcommand> --help" for its options.`

const DEPLOY_USAGE = `usage: text2text-gateway endpoints deploy <name> [options]

Deploys a SageMaker real-time endpoint (POST /v1/endpoints) and follows it until InService,
with its status on stderr; then it is a --model for "summarize" and /v1/generate.
A repeat of the same command returns the existing endpoint.

options:
  --instance-type TYPE   e.g. ml.g5.2xlarge (required)
  --instance-count N     instances (default 1)
  --model NAME           an existing SageMaker model, or:
  --image URI            an inference image, with
  --model-data-url URL   the model artefacts (s3://.../model.tar.gz) and
  --role ARN             the IAM role SageMaker uses to read them, or:
  --jumpstart MODEL_ID   a JumpStart model id (huggingface-text2text-flan-t5-large), with --role;
                         its image, model data and environment come from JumpStart's catalog
  --version VERSION      the JumpStart version: * (default, the newest), 1.* or 2.3.7
  --env KEY=VALUE        container environment (repeatable; over a JumpStart model's defaults)
  --contract NAME        the container contract of an image the gateway does not recognise:
                         jumpstart-list, tgi, lmi-rolling or lmi-dynamic
  --idle-delete-after MINUTES
                         delete it after this long without an invocation
  --no-wait              return once the deployment started
  --timeout SECONDS      give up waiting (exit 1) after this long; it keeps deploying
  --json                 print the endpoint as JSON
${CLIENT_OPTIONS_HELP}`

const LIST_USAGE = `usage: text2text-gateway endpoints list [options]

Lists the endpoints the gateway serves (GET /v1/endpoints) as a table.

options:
  --json                 print {"endpoints": [...]} as JSON
${CLIENT_OPTIONS_HELP}`

const DESCRIBE_USAGE = `usage: text2text-gateway endpoints describe <name> [options]

Shows one endpoint (GET /v1/endpoints/{name}), with its usage so far (an estimate).

options:
  --json                 print the endpoint as JSON
${CLIENT_OPTIONS_HELP}`

const SCALE_USAGE = `usage: text2text-gateway endpoints scale <name> <count> [options]

Sets an endpoint's instance count (POST /v1/endpoints/{name}/scale); it is Updating, then InService.

options:
  --json                 print the endpoint as JSON
${CLIENT_OPTIONS_HELP}`

const DELETE_USAGE = `usage: text2text-gateway endpoints delete <name> [options]

Tears an endpoint down (DELETE /v1/endpoints/{name}), with the config and model the gateway created.

options:
  --json                 print the endpoint as JSON
${CLIENT_OPTIONS_HELP}`

export const USAGE_USAGE = `usage: text2text-gateway usage [options]

Instance time and ESTIMATED cost of jobs and endpoints (GET /v1/usage): on-demand list prices
× instance-seconds, not a bill. Your own jobs; admins see everyone's and the endpoints.

options:
  --from ISO             window start (default 30 days before --to)
  --to ISO               window end (default now)
  --json                 print the report as JSON
${CLIENT_OPTIONS_HELP}`

function isEndpoint (value: unknown): value is Endpoint {
  return isRecord(value) && typeof value.name === 'string' && typeof value.status === 'string' && isRecord(value.usage)
}
function isEndpointList (value: unknown): value is { endpoints: Endpoint[] } {
  return isRecord(value) && Array.isArray(value.endpoints) && value.endpoints.every(isEndpoint)
}
function isUsageReport (value: unknown): value is UsageReport {
  return isRecord(value) && Array.isArray(value.jobs) && Array.isArray(value.endpoints) && isRecord(value.totals) && isRecord(value.prices)
}

const path = (name: string, suffix = ''): string => `v1/endpoints/${encodeURIComponent(name)}${suffix}`
const money = (usd: number | null): string => usd === null ? 'no price' : `~$${usd.toFixed(4)}`

/** The positional arguments a subcommand takes, exactly. */
function positionalsOf (positionals: string[], names: string[], command: string): string[] {
  if (positionals.length < names.length) throw new UsageError(`the ${names[positionals.length] ?? 'argument'} is missing`, command)
  if (positionals.length > names.length) throw new UsageError(`expected ${names.join(' and ')}, got ${positionals.length} arguments`, command)
  return positionals
}

/** The multi-line summary `describe` prints. */
function details (e: Endpoint): string {
  const u = e.usage
  const rows: Array<[string, string | undefined]> = [
    ['name', e.name],
    ['status', e.status],
    ['failure', e.failureReason],
    ['model', e.model],
    ['jumpstart', e.jumpstart === undefined ? undefined : `${e.jumpstart.modelId} ${e.jumpstart.version}${e.jumpstart.requestedVersion !== e.jumpstart.version ? ` (asked: ${e.jumpstart.requestedVersion})` : ''}`],
    ['contract', e.contract === undefined ? undefined : `${e.contract.name} (${e.contract.source})`],
    ['instances', `${e.instanceCount} x ${e.instanceType}`],
    ['managed', e.managed ? 'yes (deployed by this gateway)' : 'no'],
    ['created', shortDate(e.createdAt)],
    ['idle delete', e.idleDeleteAfterMinutes === undefined ? undefined : `after ${e.idleDeleteAfterMinutes} min without an invocation`],
    ['last invoked', e.lastInvokedAt === undefined ? undefined : shortDate(e.lastInvokedAt)],
    ['usage', `${u.instanceSeconds} instance-seconds, ${money(u.estimatedCostUsd)} (estimate)`],
    ['invocations', u.invocations === undefined ? undefined : `${u.invocations} for ${u.items ?? 0} items (${u.invocationsSaved ?? 0} saved by batching)`]
  ]
  const shown = rows.filter((row): row is [string, string] => row[1] !== undefined)
  const width = Math.max(...shown.map(([k]) => k.length))
  return shown.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n'
}

function print (e: Endpoint, json: boolean, ctx: CliContext): void {
  ctx.out.write(json ? JSON.stringify(e, null, 2) + '\n' : details(e))
}

/** Polls until the endpoint leaves Creating/Updating; one status line on stderr (rewritten on a terminal). */
async function waitInService (gateway: Gateway, name: string, ctx: CliContext, timeoutMs: number | undefined): Promise<Endpoint> {
  const started = Date.now()
  const tty = isTTY(ctx.err)
  let gap = FIRST_POLL_MS
  let failures = 0
  let shown = ''
  for (;;) {
    let e: Endpoint | undefined
    try {
      e = (await gateway.json('GET', path(name), isEndpoint)).value
      failures = 0
    } catch (error) {
      const transient = error instanceof ConnectionError || (error instanceof HttpError && error.transient)
      if (!transient || ++failures >= MAX_POLL_FAILURES) throw error
    }
    if (e !== undefined) {
      const line = `${name}: ${e.status}, ${duration(Date.now() - started)}`
      if (e.status !== 'Creating' && e.status !== 'Updating') {
        if (tty) ctx.err.write('\r\x1b[K')
        ctx.err.write(`${name}: ${e.status} after ${duration(Date.now() - started)}\n`)
        if (e.status !== 'InService') throw new CliError(`endpoint ${name} is ${e.status}${e.failureReason === undefined ? '' : `: ${e.failureReason}`}`)
        return e
      }
      if (tty) ctx.err.write(`\r${line}\x1b[K`)
      else if (e.status !== shown) ctx.err.write(line + '\n')
      shown = e.status
    }
    if (timeoutMs !== undefined && Date.now() - started >= timeoutMs) {
      if (tty) ctx.err.write('\r\x1b[K')
      throw new CliError(`endpoint ${name} is still ${shown === '' ? 'deploying' : shown} after ${duration(timeoutMs)} (--timeout); it keeps deploying`)
    }
    await sleep(gap)
    gap = Math.min(gap * 2, POLL_INTERVAL_MS)
  }
}

/** `endpoints deploy <name>`. */
async function deployCommand (argv: string[], ctx: CliContext): Promise<number> {
  const command = 'endpoints deploy'
  const { values, positionals } = parseClientArgs(command, argv, {
    'instance-type': { type: 'string' },
    'instance-count': { type: 'string' },
    model: { type: 'string' },
    image: { type: 'string' },
    'model-data-url': { type: 'string' },
    role: { type: 'string' },
    jumpstart: { type: 'string' },
    version: { type: 'string' },
    contract: { type: 'string' },
    env: { type: 'string', multiple: true },
    'idle-delete-after': { type: 'string' },
    'no-wait': { type: 'boolean', default: false },
    timeout: { type: 'string' },
    json: { type: 'boolean', default: false }
  })
  if (values.help) { ctx.out.write(DEPLOY_USAGE + '\n'); return EXIT_OK }
  const [name = ''] = positionalsOf(positionals, ['endpoint name'], command)
  const instanceType = values['instance-type']
  if (instanceType === undefined) throw new UsageError('--instance-type is required (e.g. ml.g5.2xlarge)', command)
  const container = values.image !== undefined || values['model-data-url'] !== undefined
  const sources = [values.model !== undefined, container, values.jumpstart !== undefined].filter(Boolean).length
  if (sources !== 1 || (values.model !== undefined && values.role !== undefined)) throw new UsageError('give either --model NAME, or --image, --model-data-url and --role, or --jumpstart MODEL_ID and --role', command)
  if (values.version !== undefined && values.jumpstart === undefined) throw new UsageError('--version goes with --jumpstart MODEL_ID', command)
  const environment: Record<string, string> = {}
  for (const pair of values.env ?? []) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--env expects KEY=VALUE, got ${JSON.stringify(pair)}`, command)
    environment[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  const env = Object.keys(environment).length > 0 ? { environment } : {}
  if (values.model !== undefined && Object.keys(env).length > 0) throw new UsageError('--env goes with --image or --jumpstart (an existing model keeps its own environment)', command)
  let model: Record<string, unknown>
  if (values.model !== undefined) {
    model = { name: values.model }
  } else if (values.jumpstart !== undefined) {
    if (values.role === undefined) throw new UsageError('--role is required with --jumpstart', command)
    model = { jumpstart: { modelId: values.jumpstart, version: values.version ?? DEFAULT_JUMPSTART_VERSION }, role: values.role, ...env }
  } else {
    for (const flag of ['image', 'model-data-url', 'role'] as const) {
      if (values[flag] === undefined) throw new UsageError(`--${flag} is required with --image/--model-data-url/--role`, command)
    }
    model = { image: values.image, modelDataUrl: values['model-data-url'], role: values.role, ...env }
  }
  const instanceCount = integerOption(values['instance-count'], '--instance-count', 1, 100, command)
  const idle = integerOption(values['idle-delete-after'], '--idle-delete-after', 2, 60 * 24 * 30, command)
  const timeoutMs = secondsOption(values.timeout, '--timeout', command)
  const gateway = new Gateway(connection(values.url, ctx.env, command))
  const body = { name, model, instanceType, ...(values.contract !== undefined ? { contract: values.contract } : {}), ...(instanceCount !== undefined ? { instanceCount } : {}), ...(idle !== undefined ? { idleDeleteAfterMinutes: idle } : {}) }
  let endpoint = (await gateway.json('POST', 'v1/endpoints', isEndpoint, { json: body, context: `deploying ${name}` })).value
  if (!values['no-wait']) endpoint = await waitInService(gateway, name, ctx, timeoutMs)
  print(endpoint, values.json, ctx)
  return EXIT_OK
}

/** `endpoints list`. */
async function listCommand (argv: string[], ctx: CliContext): Promise<number> {
  const command = 'endpoints list'
  const { values, positionals } = parseClientArgs(command, argv, { json: { type: 'boolean', default: false } })
  if (values.help) { ctx.out.write(LIST_USAGE + '\n'); return EXIT_OK }
  positionalsOf(positionals, [], command)
  const list = (await new Gateway(connection(values.url, ctx.env, command)).json('GET', 'v1/endpoints', isEndpointList)).value
  if (values.json) { ctx.out.write(JSON.stringify(list, null, 2) + '\n'); return EXIT_OK }
  const rows = [['NAME', 'STATUS', 'INSTANCES', 'MANAGED', 'CREATED', 'COST (ESTIMATE)']]
  for (const e of list.endpoints) rows.push([e.name, e.status, `${e.instanceCount} x ${e.instanceType}`, e.managed ? 'yes' : 'no', shortDate(e.createdAt), money(e.usage.estimatedCostUsd)])
  ctx.out.write(table(rows))
  return EXIT_OK
}

/** `endpoints describe <name>`. */
async function describeCommand (argv: string[], ctx: CliContext): Promise<number> {
  const command = 'endpoints describe'
  const { values, positionals } = parseClientArgs(command, argv, { json: { type: 'boolean', default: false } })
  if (values.help) { ctx.out.write(DESCRIBE_USAGE + '\n'); return EXIT_OK }
  const [name = ''] = positionalsOf(positionals, ['endpoint name'], command)
  print((await new Gateway(connection(values.url, ctx.env, command)).json('GET', path(name), isEndpoint)).value, values.json, ctx)
  return EXIT_OK
}

/** `endpoints scale <name> <count>`. */
async function scaleCommand (argv: string[], ctx: CliContext): Promise<number> {
  const command = 'endpoints scale'
  const { values, positionals } = parseClientArgs(command, argv, { json: { type: 'boolean', default: false } })
  if (values.help) { ctx.out.write(SCALE_USAGE + '\n'); return EXIT_OK }
  const [name = '', count] = positionalsOf(positionals, ['endpoint name', 'instance count'], command)
  const instanceCount = integerOption(count, 'the instance count', 1, 100, command)
  const gateway = new Gateway(connection(values.url, ctx.env, command))
  print((await gateway.json('POST', path(name, '/scale'), isEndpoint, { json: { instanceCount } })).value, values.json, ctx)
  return EXIT_OK
}

/** `endpoints delete <name>`. */
async function deleteCommand (argv: string[], ctx: CliContext): Promise<number> {
  const command = 'endpoints delete'
  const { values, positionals } = parseClientArgs(command, argv, { json: { type: 'boolean', default: false } })
  if (values.help) { ctx.out.write(DELETE_USAGE + '\n'); return EXIT_OK }
  const [name = ''] = positionalsOf(positionals, ['endpoint name'], command)
  const e = (await new Gateway(connection(values.url, ctx.env, command)).json('DELETE', path(name), isEndpoint)).value
  if (values.json) ctx.out.write(JSON.stringify(e, null, 2) + '\n')
  else ctx.out.write(`${e.name}: ${e.status}; it cost ${money(e.usage.estimatedCostUsd)} (estimate, ${e.usage.instanceSeconds} instance-seconds)\n`)
  return EXIT_OK
}

const SUBCOMMANDS: Record<string, Command> = { deploy: deployCommand, list: listCommand, describe: describeCommand, scale: scaleCommand, delete: deleteCommand }
const HELP: Record<string, string> = { deploy: DEPLOY_USAGE, list: LIST_USAGE, describe: DESCRIBE_USAGE, scale: SCALE_USAGE, delete: DELETE_USAGE }

/** Dispatches `endpoints <subcommand>`; resolves with the exit code (errors are thrown to main). */
export async function endpointsCommand (argv: string[], ctx: CliContext): Promise<number> {
  return await dispatchSubcommand('endpoints', ENDPOINTS_USAGE, SUBCOMMANDS, HELP, argv, ctx)
}

/** `usage`. */
export async function usageCommand (argv: string[], ctx: CliContext): Promise<number> {
  const command = 'usage'
  const { values, positionals } = parseClientArgs(command, argv, { from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean', default: false } })
  if (values.help) { ctx.out.write(USAGE_USAGE + '\n'); return EXIT_OK }
  positionalsOf(positionals, [], command)
  for (const flag of ['from', 'to'] as const) {
    const v = values[flag]
    if (v !== undefined && !Number.isFinite(Date.parse(v))) throw new UsageError(`--${flag} must be an ISO 8601 date-time, got ${JSON.stringify(v)}`, command)
  }
  const query = { from: values.from === undefined ? undefined : new Date(values.from).toISOString(), to: values.to === undefined ? undefined : new Date(values.to).toISOString() }
  const report = (await new Gateway(connection(values.url, ctx.env, command)).json('GET', 'v1/usage', isUsageReport, { query })).value
  if (values.json) { ctx.out.write(JSON.stringify(report, null, 2) + '\n'); return EXIT_OK }
  const rows = [['KIND', 'NAME', 'INSTANCES', 'INSTANCE-SECONDS', 'COST (ESTIMATE)', 'ITEMS/INVOCATIONS']]
  for (const j of report.jobs) rows.push(['job', j.name, `${j.instanceCount} x ${j.instanceType}`, String(j.instanceSeconds), money(j.estimatedCostUsd), '-'])
  for (const e of report.endpoints) rows.push([`endpoint (${e.status})`, e.name, `${e.instanceCount} x ${e.instanceType}`, String(e.instanceSeconds), money(e.estimatedCostUsd), `${e.items}/${e.invocations}`])
  const t = report.totals
  rows.push(['total', '', '', String(t.instanceSeconds), money(t.estimatedCostUsd), `${t.items}/${t.invocations} (${t.invocationsSaved} saved)`])
  ctx.out.write(`${report.from} to ${report.to}\n` + table(rows) + `prices: ${report.prices.source} (${report.prices.region}, ${report.prices.date}); costs are estimates, not a bill\n`)
  return EXIT_OK
}
