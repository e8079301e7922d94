/**
 * The OpenAI-compatible API, gateway side: what /v1/completions, /v1/chat/completions,
 * /v1/models, /v1/files and /v1/batches need beyond their routes (OpenAI's error shape and its
 * rendering are schemas/errors.ts, the routes' handler src/http/errors.ts). It owns OpenAI
 * request bodies mapped to micro-batcher work with refusals, parameter mapping and chat
 * flattening, and OpenAI's response objects and stream events (requests.ts, pure), batch input
 * lines and their grouping into transform jobs (batch-lines.ts, pure), output and error files
 * and the OpenAI batch's status (batch-output.ts, pure), the files and OpenAI batches services
 * (files.ts, batches.ts: bucket services, stored in S3 beside datasets and transform jobs), and
 * the endpoint a `model` names (models.ts). Real time goes through app.realtime (src/realtime/),
 * OpenAI batches through src/jobs/ as transform jobs.
 */
export { Batches, type BatchObject } from './batches.js'
export { Files, type FileObject } from './files.js'
