// Every plugin in src/plugins/ declares, in its fastify-plugin `dependencies`, each plugin whose
// decorator it uses (`app.<decorator>`), so registering it without them (or before them) stops
// the boot with fastify-plugin's own message instead of failing on a request later. Read from
// the sources: a decorator belongs to the plugin file that calls `app.decorate('<name>', ...)`
// and names itself with `{ name: '<plugin>' ... }`.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

interface PluginSource { file: string, name: string | undefined, dependencies: string[], decorates: string[], uses: string[] }

function read (file: string): PluginSource {
  const text = readFileSync(file, 'utf8')
  const meta = /\}, \{ name: '([\w-]+)'(?:, dependencies: \[([^\]]*)\])? \}\)/.exec(text)
  return {
    file,
    name: meta?.[1],
    dependencies: [...(meta?.[2] ?? '').matchAll(/'([\w-]+)'/g)].map(m => m[1] as string),
    decorates: [...text.matchAll(/app\.decorate\('(\w+)'/g)].map(m => m[1] as string),
    uses: [...new Set([...text.matchAll(/\bapp\.(\w+)/g)].map(m => m[1] as string))]
  }
}

const dirs = ['src/plugins', 'src/http']
const sources = dirs.flatMap(dir => readdirSync(dir).filter(f => f.endsWith('.ts')).map(f => read(join(dir, f)))).filter(s => s.name !== undefined)
const owner = new Map(sources.flatMap(s => s.decorates.map(d => [d, s.name as string] as const)))

t.test('each plugin declares the plugins whose decorators it uses', async t => {
  const plugins = sources.filter(s => s.file.startsWith('src/plugins/'))
  t.ok(plugins.length >= 6, `${plugins.length} plugins read`)
  t.equal(owner.get('endpoints'), 'endpoints', 'app.endpoints belongs to the endpoints plugin')
  for (const plugin of plugins) {
    const needed = plugin.uses.flatMap(u => {
      const by = owner.get(u)
      return by === undefined || by === plugin.name ? [] : [by]
    })
    for (const dep of new Set(needed)) t.ok(plugin.dependencies.includes(dep), `${plugin.file} (${plugin.name ?? '?'}) uses a decorator of '${dep}' and declares it`)
  }
})
