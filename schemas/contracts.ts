/**
 * The names a container contract is chosen by (the deploy option `contract`, the endpoint tag
 * t2t:contract, ENDPOINT_CONTRACTS) and shown by (the endpoint view). LMI carries its batching in
 * the name, which detection reads from OPTION_ROLLING_BATCH. src/sagemaker/contracts/explicit.ts
 * builds a contract from one.
 */
export const CONTRACT_NAMES = ['jumpstart-list', 'tgi', 'lmi-rolling', 'lmi-dynamic'] as const
export type ExplicitContractName = typeof CONTRACT_NAMES[number]

/** The tag that names the contract chosen at deploy, on the endpoint and on the model the gateway creates. */
export const CONTRACT_TAG = 't2t:contract'
