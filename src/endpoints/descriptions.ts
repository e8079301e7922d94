/**
 * What SageMaker says about endpoints, read by every other part of the service: an endpoint's
 * description with its decoded tags (DescribeEndpoint, ListTags), cached for `cacheMs` per
 * replica to keep the control plane's API budget; the managed ones (ListEndpoints); the model
 * and instance type an endpoint config names; and tag writes. Writers (lifecycle, activity)
 * `forget` a name after changing it, so the next read is fresh.
 */
import {
  AddTagsCommand, DescribeEndpointCommand, DescribeEndpointConfigCommand, ListEndpointsCommand, ListTagsCommand,
  type DescribeEndpointOutput, type SageMakerClient, type Tag
} from '@aws-sdk/client-sagemaker'
import type { FastifyBaseLogger } from 'fastify'
import { controlPlaneError, isResourceNotFound as isNotFound } from '../sagemaker/aws-errors.js'
import { SAGEMAKER_NAME_PATTERN } from '../sagemaker/rules.js'
import { decodeMeta, ledgerTags, type EndpointMeta } from './tags.js'

/** ListTags calls in flight while listing. */
const LIST_CONCURRENCY = 8
/** ListEndpoints pages read at most per listing (100 endpoints each). */
const MAX_LIST_PAGES = 20
/** Statuses in which an endpoint answers InvokeEndpoint. */
export const SERVING: ReadonlySet<string> = new Set(['InService'])

/** A name or value as it appears in messages. */
export const show = (s: string): string => JSON.stringify(s)

/** An endpoint as SageMaker describes it, with its decoded tags. */
export interface Described {
  description: DescribeEndpointOutput
  meta: EndpointMeta
  arn: string
  /** Its endpoint config's first production variant, once looked up (servedVariant). */
  variant?: Variant
}

/** What an endpoint config's first production variant says (DescribeEndpointConfig, ProductionVariants[0]); either may be absent. */
export interface Variant {
  model?: string
  instanceType?: string
}

export interface DescriptionsOptions {
  control: SageMakerClient
  log: FastifyBaseLogger
  /** ms a description is reused; a few seconds. */
  cacheMs: number
  now: () => number
}

/** Endpoint descriptions from SageMaker, with a per-replica cache of `cacheMs`. */
export class Descriptions {
  private readonly control: SageMakerClient
  private readonly log: FastifyBaseLogger
  private readonly cacheMs: number
  private readonly now: () => number
  /** name (lower case) → a recent description (undefined: SageMaker has none) and when it was read. */
  private readonly cache = new Map<string, { at: number, value: Described | undefined }>()

  constructor (opts: DescriptionsOptions) {
    this.control = opts.control
    this.log = opts.log
    this.cacheMs = opts.cacheMs
    this.now = opts.now
  }

  /** A description at most cacheMs old (the real-time path's read). */
  async cached (name: string): Promise<Described | undefined> {
    const hit = this.cache.get(name.toLowerCase())
    if (hit !== undefined && this.now() - hit.at < this.cacheMs) return hit.value
    return await this.describe(name, true)
  }

  /** DescribeEndpoint and ListTags; undefined when there is no such endpoint. Records the InService start once. */
  async describe (name: string, fresh = false): Promise<Described | undefined> {
    if (!fresh) {
      const hit = this.cache.get(name.toLowerCase())
      if (hit !== undefined && this.now() - hit.at < this.cacheMs) return hit.value
    }
    if (!SAGEMAKER_NAME_PATTERN.test(name)) return undefined
    let description: DescribeEndpointOutput
    try {
      description = await this.control.send(new DescribeEndpointCommand({ EndpointName: name }))
    } catch (err) {
      if (isNotFound(err)) {
        this.cache.set(name.toLowerCase(), { at: this.now(), value: undefined })
        return undefined
      }
      throw controlPlaneError('DescribeEndpoint', err)
    }
    const found = await this.withTags(description)
    this.cache.set(name.toLowerCase(), { at: this.now(), value: found })
    return found
  }

  /** Drops the cached description of `name` (it has just changed). */
  forget (name: string): void {
    this.cache.delete(name.toLowerCase())
  }

  /** Managed endpoints, fresh from SageMaker (ListEndpoints, then ListTags of each). */
  async listManaged (): Promise<Described[]> {
    const summaries: string[] = []
    let token: string | undefined
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      let out
      try {
        out = await this.control.send(new ListEndpointsCommand({ MaxResults: 100, SortBy: 'CreationTime', SortOrder: 'Descending', ...(token !== undefined ? { NextToken: token } : {}) }))
      } catch (err) {
        throw controlPlaneError('ListEndpoints', err)
      }
      for (const e of out.Endpoints ?? []) if (e.EndpointName !== undefined) summaries.push(e.EndpointName)
      token = out.NextToken
      if (token === undefined || token === '') break
    }
    const found: Described[] = []
    for (let i = 0; i < summaries.length; i += LIST_CONCURRENCY) {
      const chunk = await Promise.all(summaries.slice(i, i + LIST_CONCURRENCY).map(async name => await this.describe(name, true)))
      for (const d of chunk) if (d !== undefined && d.meta.managed) found.push(d)
    }
    return found
  }

  /** The model and instance type behind a described endpoint (its tags when managed); the endpoint config is read once per description. */
  async servedVariant (found: Described): Promise<Variant> {
    if (found.meta.managed) return { ...(found.meta.model !== undefined ? { model: found.meta.model } : {}), ...(found.meta.instanceType !== undefined ? { instanceType: found.meta.instanceType } : {}) }
    found.variant ??= await this.variant(found.description.EndpointConfigName)
    return found.variant
  }

  async addTags (arn: string, tags: Tag[]): Promise<void> {
    try {
      await this.control.send(new AddTagsCommand({ ResourceArn: arn, Tags: tags }))
    } catch (err) {
      throw controlPlaneError('AddTags', err)
    }
  }

  /** The model and instance type an endpoint config's first production variant names. */
  private async variant (configName: string | undefined): Promise<Variant> {
    if (configName === undefined) return {}
    try {
      const first = (await this.control.send(new DescribeEndpointConfigCommand({ EndpointConfigName: configName }))).ProductionVariants?.[0]
      return { ...(first?.ModelName !== undefined ? { model: first.ModelName } : {}), ...(first?.InstanceType !== undefined ? { instanceType: first.InstanceType } : {}) }
    } catch (err) {
      // an endpoint keeps serving after its config is deleted; SageMaker then no longer says which model
      if (isNotFound(err)) return {}
      throw controlPlaneError('DescribeEndpointConfig', err)
    }
  }

  private async withTags (description: DescribeEndpointOutput): Promise<Described> {
    const arn = description.EndpointArn ?? ''
    let tags: Tag[]
    try {
      tags = (await this.control.send(new ListTagsCommand({ ResourceArn: arn }))).Tags ?? []
    } catch (err) {
      if (isNotFound(err)) tags = []
      else throw controlPlaneError('ListTags', err)
    }
    const current = description.ProductionVariants?.[0]?.CurrentInstanceCount
    let meta = decodeMeta(tags, current ?? 1)
    // the capacity ledger starts when the endpoint is first seen InService: from the time it got
    // there (LastModifiedTime of its first InService), which any replica computes alike
    if (meta.managed && meta.ledger.sinceMs === undefined && description.EndpointStatus === 'InService') {
      const since = description.LastModifiedTime?.getTime() ?? this.now()
      const ledger = { ...meta.ledger, sinceMs: since, count: current ?? meta.ledger.count }
      await this.addTags(arn, ledgerTags(ledger)).catch((err: unknown) => { this.log.warn({ err, arn }, 'could not record when the endpoint went InService') })
      meta = { ...meta, ledger }
    }
    return { description, meta, arn }
  }
}
