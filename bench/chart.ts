import { ceilingPerSec, type RealtimeBench } from './realtime.js'

// one colour per endpoint shape; the default policy solid, the previous default dashed, the
// endpoint called directly (its own ceiling, measured) dotted
const SHAPE_COLORS = ['#9467bd', '#1f77b4', '#2ca02c']
const DASH: Record<string, string> = { learned: '', adaptive: '5 3' }
const DIRECT_DASH = '1 3'

interface Series { label: string, color: string, dash: string, values: number[] }

function panel (x0: number, title: string, levels: number[], series: Series[], reference?: { value: number, label: string }): string {
  const w = 380; const h = 260; const left = 55; const bottom = 40; const top = 30
  const max = Math.max(reference?.value ?? 0, ...series.flatMap(s => s.values)) * 1.1
  const px = (i: number): number => x0 + left + (i * (w - left - 20)) / (levels.length - 1)
  const py = (v: number): number => top + (h - top - bottom) * (1 - v / max)
  let out = `<text x="${x0 + w / 2}" y="18" text-anchor="middle" font-weight="bold">${title}</text>`
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4
    out += `<line x1="${x0 + left}" x2="${x0 + w - 20}" y1="${py(v)}" y2="${py(v)}" stroke="#ddd"/>`
    out += `<text x="${x0 + left - 6}" y="${py(v) + 4}" text-anchor="end" font-size="11">${v >= 100 ? v.toFixed(0) : v.toFixed(1)}</text>`
  }
  levels.forEach((c, i) => { out += `<text x="${px(i)}" y="${h - bottom + 16}" text-anchor="middle" font-size="11">${c}</text>` })
  out += `<text x="${x0 + w / 2}" y="${h - 6}" text-anchor="middle" font-size="11">concurrent clients</text>`
  if (reference !== undefined) {
    out += `<line x1="${x0 + left}" x2="${x0 + w - 20}" y1="${py(reference.value)}" y2="${py(reference.value)}" stroke="#555" stroke-dasharray="4 3"/>`
    out += `<text x="${x0 + left + 4}" y="${py(reference.value) - 4}" font-size="10" fill="#555">${reference.label}</text>`
  }
  for (const s of series) {
    const pts = s.values.map((v, i) => `${px(i)},${py(v)}`).join(' ')
    out += `<polyline fill="none" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}" points="${pts}"/>`
    s.values.forEach((v, i) => { out += `<circle cx="${px(i)}" cy="${py(v)}" r="3" fill="${s.color}"/>` })
  }
  return out
}

/** An SVG: share of the endpoint's ceiling and p99 latency against concurrency, per shape, learned vs adaptive, and the endpoint's own measured share. */
export function realtimeChart (bench: RealtimeBench, levels: number[]): string {
  const series = (pick: (r: { shareOfCeiling: number, p99Ms: number }) => number): Series[] =>
    bench.shapes.flatMap((shape, i) => Object.keys(DASH).filter(mode => bench.runs[shape.name]?.[mode] !== undefined).map(mode => ({
      label: `${shape.name} ${mode}`,
      color: SHAPE_COLORS[i % SHAPE_COLORS.length],
      dash: DASH[mode],
      values: (bench.runs[shape.name]?.[mode] ?? []).map(pick)
    })))
  const shares = [
    ...series(r => 100 * r.shareOfCeiling),
    ...bench.shapes.map((shape, i) => ({
      label: `${shape.name} endpoint direct`,
      color: SHAPE_COLORS[i % SHAPE_COLORS.length],
      dash: DIRECT_DASH,
      values: (bench.direct[shape.name] ?? []).map(d => 100 * d.itemsPerSec / ceilingPerSec(shape, d.concurrency))
    }))
  ]
  let legend = ''
  shares.forEach((s, i) => {
    const x = 20 + (i % 3) * 250
    const y = 272 + Math.floor(i / 3) * 16
    legend += `<line x1="${x}" x2="${x + 22}" y1="${y + 6}" y2="${y + 6}" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}"/><text x="${x + 28}" y="${y + 10}" font-size="12">${s.label}</text>`
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="780" height="${288 + 16 * Math.ceil(shares.length / 3)}" font-family="sans-serif" font-size="12">` +
    '<rect width="100%" height="100%" fill="white"/>' +
    panel(0, 'Throughput, % of the ceiling C / latency(⌈C/S⌉)', levels, shares, { value: 90, label: 'target 90%' }) +
    panel(390, 'p99 latency (ms)', levels, series(r => r.p99Ms)) +
    legend + '</svg>\n'
}
