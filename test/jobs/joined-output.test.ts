// Output lines of jobs on single-input contracts, as the gateway reads them back: a job joined
// by id through DataProcessing writes {"id", "SageMakerOutput": <the container's answer>}
// ("Associate Prediction Results with Input Records",
// https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html); TGI's
// answer is [{"generated_text", "details"?}] (text-generation-inference router/src/server.rs
// compat_generate; best_of's others in details.best_of_sequences), LMI rolling batch's
// {"generated_text", "details"?} with finish_reason "error" for a failed generation
// (djl-serving lmi_input_output_schema.md).
import t from 'tap'
import { parseOutputLine } from '../../src/jobs/results.js'

const read = (value: unknown): ReturnType<typeof parseOutputLine> => parseOutputLine(JSON.stringify(value), 3, 'records.jsonl.out')

t.test('SageMakerOutput in the shapes single-input containers answer', async t => {
  t.match(read({ id: 'a', SageMakerOutput: [{ generated_text: 'one' }] }), { id: 'a', texts: ['one'] }, 'TGI')
  t.match(read({ id: 7, SageMakerOutput: [{ generated_text: 'one', details: { finish_reason: 'length', best_of_sequences: [{ generated_text: 'two' }] } }] }), { id: 7, texts: ['one', 'two'] }, 'TGI best_of with details')
  t.match(read({ id: 'b', SageMakerOutput: { generated_text: 'lmi' } }), { id: 'b', texts: ['lmi'] }, 'LMI rolling batch')
  t.match(read({ id: 'c', SageMakerOutput: { generated_texts: ['x', 'y'] } }), { id: 'c', texts: ['x', 'y'] }, 'the list container joined')
  t.match(read([{ generated_text: 'raw' }]), { id: undefined, texts: ['raw'] }, 'TGI\'s answer written without DataProcessing: no id, line order')
})

t.test('what is not a generation is a per-record error, never an empty text', async t => {
  t.match(read({ id: 'd', SageMakerOutput: { generated_text: '', details: { finish_reason: 'error' } } }), { id: 'd', error: { code: 'MODEL_ERROR', message: /records\.jsonl\.out line 3: the model reported an error/ } })
  t.match(read({ id: 'e', SageMakerOutput: [] }), { id: 'e', error: { code: 'INVALID_OUTPUT', message: /empty SageMakerOutput/ } })
  t.match(read({ id: 'f', SageMakerOutput: [{ text: 'no' }] }), { id: 'f', error: { code: 'INVALID_OUTPUT', message: /without generated_text/ } })
  t.match(read({ id: 'g', SageMakerOutput: [{ generated_text: 'a', details: { best_of_sequences: [{}] } }] }), { id: 'g', error: { code: 'INVALID_OUTPUT' } })
})
