// The List* operations' shared rules, as AWS applies them to ListTransformJobs, ListModels and
// ListEndpoints: MaxResults 1..100, SortBy/SortOrder, NameContains (case-insensitive),
// Creation/LastModified time windows (exclusive), StatusEquals, and an opaque NextToken that
// resumes after the previous page's last item (so a page stays consistent while items come and go).

import { compact, Reader, validationError, Violations, type Json } from './requests.js'

type SortOrder = 'Ascending' | 'Descending'

/** How one resource is listed. */
export interface ListQuery<T> {
  /** Allowed SortBy values; the first is not the default, `CreationTime` is. */
  sortBy: readonly string[]
  sortValue: (item: T, by: string) => string | number
  name: (item: T) => string
  createdAt: (item: T) => number
  modifiedAt?: (item: T) => number
  /** With `statuses`, StatusEquals is accepted. */
  status?: (item: T) => string
  statuses?: readonly string[]
  defaultMaxResults: number
}

/** Where the previous page ended: its last item's sort value and name (names are unique). */
interface Cursor {
  by: string
  order: SortOrder
  value: string | number
  name: string
}

const NAME_CONTAINS_PATTERN = /^[a-zA-Z0-9-]+$/

function compareKeys (a: { value: string | number, name: string }, b: { value: string | number, name: string }, order: SortOrder): number {
  const primary = a.value < b.value ? -1 : a.value > b.value ? 1 : 0
  const c = primary !== 0 ? primary : a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  return order === 'Ascending' ? c : -c
}

function encodeCursor (cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url')
}

function decodeCursor (token: string, by: string, order: SortOrder): Cursor {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Cursor
    if (c.by === by && c.order === order && typeof c.name === 'string' && (typeof c.value === 'string' || typeof c.value === 'number')) return c
  } catch {}
  throw validationError('The provided NextToken is not valid for this request: pass the NextToken of the previous page with the same SortBy and SortOrder.')
}

/** Validates a List* request and returns its page of `items` and the token of the next one. */
export function listPage<T> (items: readonly T[], input: Json, query: ListQuery<T>): { page: T[], nextToken?: string } {
  const v = new Violations()
  const r = new Reader(v, input)
  const maxResults = r.integer('MaxResults', { min: 1, max: 100 })
  const sortBy = r.string('SortBy', { values: query.sortBy })
  const sortOrder = r.string('SortOrder', { values: ['Ascending', 'Descending'] })
  const status = query.statuses === undefined ? undefined : r.string('StatusEquals', { values: query.statuses })
  const nameContains = r.string('NameContains', { max: 63, pattern: NAME_CONTAINS_PATTERN, patternText: '[a-zA-Z0-9\\-]+' })
  const nextToken = r.string('NextToken', { max: 8192 })
  const createdAfter = r.timestamp('CreationTimeAfter')
  const createdBefore = r.timestamp('CreationTimeBefore')
  const modifiedAfter = query.modifiedAt === undefined ? undefined : r.timestamp('LastModifiedTimeAfter')
  const modifiedBefore = query.modifiedAt === undefined ? undefined : r.timestamp('LastModifiedTimeBefore')
  v.throwIfAny()

  const by = sortBy ?? 'CreationTime'
  const order = (sortOrder ?? 'Descending') as SortOrder
  const needle = nameContains?.toLowerCase()
  const key = (item: T): { value: string | number, name: string } => ({ value: query.sortValue(item, by), name: query.name(item).toLowerCase() })
  const modified = query.modifiedAt ?? query.createdAt
  let selected = items.filter((item) =>
    (status === undefined || query.status?.(item) === status) &&
    (needle === undefined || query.name(item).toLowerCase().includes(needle)) &&
    (createdAfter === undefined || query.createdAt(item) > createdAfter) &&
    (createdBefore === undefined || query.createdAt(item) < createdBefore) &&
    (modifiedAfter === undefined || modified(item) > modifiedAfter) &&
    (modifiedBefore === undefined || modified(item) < modifiedBefore))
  selected.sort((a, b) => compareKeys(key(a), key(b), order))
  if (nextToken !== undefined && nextToken !== '') {
    const cursor = decodeCursor(nextToken, by, order)
    selected = selected.filter((item) => compareKeys(key(item), cursor, order) > 0)
  }
  const limit = maxResults ?? query.defaultMaxResults
  const page = selected.slice(0, limit)
  const last = page.at(-1)
  return compact({ page, nextToken: selected.length > limit && last !== undefined ? encodeCursor({ by, order, ...key(last) }) : undefined })
}
