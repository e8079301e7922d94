/**
 * Container contracts: how the gateway talks to each kind of inference container behind a
 * SageMaker endpoint (types.ts), one module per contract, and the detection of an endpoint's
 * contract from its model's image and environment.
 */
export { StreamFailure, type ContainerContract, type ContainerFailure, type ContractName, type GenerationEvent, type StreamEvent, type StreamParser } from './types.js'
export { classifyContractError, InputRefused } from './classify.js'
export { jumpstartList } from './jumpstart-list.js'
export { tgiContract, tgiLimits, tgiStreamParser, type TgiLimits } from './tgi.js'
export { lmiDynamic, lmiRolling, lmiStreamParser } from './lmi.js'
export { detectContract, imageRepository, type ContainerSpec, type Detection } from './detect.js'
export { BESIDE_PARAMETERS, truncateExtra, translateParameters, parameterLimits, payloadParameters, type ParameterPath, sequencesPerInput, type ExtraParameters, type ParameterLimits, type Translated } from './parameters.js'
export { modelContract } from './model-contract.js'
export { EXPLICIT_CONTRACT_NAMES, explicitContract, isExplicitContractName, explicitNameOf, parseEndpointContracts, type ExplicitContractName } from './explicit.js'
