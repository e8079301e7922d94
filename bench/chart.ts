import type { RealtimeBench } from './realtime.js'

const COLORS: Record<string, string> = { 'batched-adaptive': '#9467bd', 'batched-eager': '#1f77b4', 'batched-wait': '#2ca02c', unbatched: '#d62728' }

function panel (x0: number, title: string, levels: number[], series: Array<{ name: string, values: number[] }>, ceiling?: number): string {
  const w = 380; const h = 260; const left = 55; const bottom = 40; const top = 30
  const max = Math.max(ceiling ?? 0, ...series.flatMap(s => s.values)) * 1.1
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
  if (ceiling !== undefined) {
    out += `<line x1="${x0 + left}" x2="${x0 + w - 20}" y1="${py(ceiling)}" y2="${py(ceiling)}" stroke="#555" stroke-dasharray="4 3"/>`
    out += `<text x="${x0 + left + 4}" y="${py(ceiling) - 4}" font-size="10" fill="#555">endpoint ceiling (B=32)</text>`
  }
  for (const s of series) {
    const pts = s.values.map((v, i) => `${px(i)},${py(v)}`).join(' ')
    out += `<polyline fill="none" stroke="${COLORS[s.name] ?? '#000'}" stroke-width="2" points="${pts}"/>`
    s.values.forEach((v, i) => { out += `<circle cx="${px(i)}" cy="${py(v)}" r="3" fill="${COLORS[s.name] ?? '#000'}"/>` })
  }
  return out
}

/** An SVG with throughput and p99 latency against concurrency, batched vs unbatched. */
export function realtimeChart (bench: RealtimeBench, levels: number[]): string {
  const names = Object.keys(bench.runs)
  const series = (pick: 'throughputPerSec' | 'p99Ms'): Array<{ name: string, values: number[] }> =>
    names.map(name => ({ name, values: (bench.runs[name] ?? []).map(r => r[pick]) }))
  let legend = ''
  names.forEach((name, i) => {
    legend += `<rect x="${40 + i * 185}" y="272" width="12" height="12" fill="${COLORS[name] ?? '#000'}"/><text x="${56 + i * 185}" y="282" font-size="12">${name}</text>`
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="780" height="295" font-family="sans-serif" font-size="12">` +
    '<rect width="100%" height="100%" fill="white"/>' +
    panel(0, 'Throughput (req/s)', levels, series('throughputPerSec'), bench.ceilingBatchedPerSec) +
    panel(390, 'p99 latency (ms)', levels, series('p99Ms')) +
    legend + '</svg>\n'
}
