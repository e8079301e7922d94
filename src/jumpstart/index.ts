/**
 * Deploying by JumpStart model id: the region's catalog (manifest, spec files) read as the
 * SageMaker Python SDK reads it, and the image, model data and environment a spec gives.
 */
export { JumpStartCatalog, contentBucket, MANIFEST_KEY, type CatalogOptions } from './catalog.js'
export { deployPlan, imageUri, environmentOf, modelDataOf, instanceFamily, SpecRefusal, type DeployPlan, type ManifestEntry, type ModelData, type ModelSpec } from './specs.js'
export { selectVersion, sortVersionsDescending } from './versions.js'
