import { Type, type Static, type TArray, type TBoolean, type TLiteral, type TNull, type TObject, type TSchema, type TString, type TUnion } from 'typebox'

/** OpenAI's file object. https://platform.openai.com/docs/api-reference/files/object */
export const OpenAiFile = Type.Object({
  id: Type.String({ description: 'Unguessable; ids sort newest first.', examples: ['file-ffe6d1c2a9b3f0c1d2e3a4b5c6d7e8f9'] }),
  object: Type.Literal('file'),
  bytes: Type.Integer({ minimum: 0 }),
  created_at: Type.Integer({ description: 'Unix seconds.' }),
  filename: Type.String(),
  purpose: Type.Enum(['batch', 'batch_output'], { description: '`batch` for uploads (batch input files); `batch_output` for a batch\'s output and error files.' }),
  status: Type.Literal('processed', { description: 'Always processed: a file is stored only once every line has been checked.' })
}, { $id: 'OpenAiFile', title: 'OpenAiFile' })
export type OpenAiFile = Static<typeof OpenAiFile>

/**
 * OpenAI's cursor-paginated list (files, batches): a page of `data` newest first, `has_more`,
 * and the first and last ids (pass `last_id` as `after` for the next page).
 */
export function cursorPage<T extends TSchema> (item: T, title: string): TObject<{ object: TLiteral<'list'>, data: TArray<T>, has_more: TBoolean, first_id: TUnion<[TString, TNull]>, last_id: TUnion<[TString, TNull]> }> {
  return Type.Object({
    object: Type.Literal('list'),
    data: Type.Array(item),
    has_more: Type.Boolean(),
    first_id: Type.Union([Type.String(), Type.Null()]),
    last_id: Type.Union([Type.String(), Type.Null()])
  }, { title })
}

export const OpenAiFileList = cursorPage(Type.Ref('OpenAiFile'), 'OpenAiFileList')

export const OpenAiFileDeleted = Type.Object({
  id: Type.String(),
  object: Type.Literal('file'),
  deleted: Type.Literal(true)
}, { title: 'OpenAiFileDeleted' })

export const FileIdParams = Type.Object({
  file_id: Type.String({ minLength: 1, maxLength: 64, description: 'A file id (file-...).' })
})

export const ListFilesQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 10000, default: 10000, description: 'Files per page (OpenAI\'s default and maximum: 10000).' }),
  after: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'A file id: the page starts after it (pass `last_id`).' })),
  purpose: Type.Optional(Type.Enum(['batch', 'batch_output'], { description: 'Only files with this purpose.' })),
  order: Type.Optional(Type.Literal('desc', { description: 'Newest first, the only order offered.' }))
}, { additionalProperties: false })

/** The multipart form of POST /v1/files (documentation; the stream is checked in the handler). */
export const UploadFileForm = Type.Object({
  file: Type.String({ format: 'binary', description: 'The batch input file: JSONL, one `{"custom_id","method":"POST","url","body"}` per line.' }),
  purpose: Type.Literal('batch', { description: 'Only `batch` is accepted.' })
}, { required: ['file', 'purpose'], examples: [{ file: '{"custom_id": "r-1", "method": "POST", "url": "/v1/completions", "body": {"model": "flan-t5-local", "prompt": "Summarize: The river rose overnight.", "max_tokens": 30}}\n', purpose: 'batch' }] })

/** A file object, for the document's examples. */
export const FILE_EXAMPLE = { id: 'file-ffe6d1c2a9b3f0c1d2e3a4b5c6d7e8f9', object: 'file', bytes: 412, created_at: 1764633600, filename: 'requests.jsonl', purpose: 'batch', status: 'processed' }
